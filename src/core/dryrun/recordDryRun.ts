/**
 * Writes a finished dry run into the runbook's ledger, where the production gate looks for it.
 *
 * This folder cannot depend on the vscode API.
 */
import * as os from 'node:os';
import type { Runbook } from '../format/runbook';
import type { LedgerPlace } from '../ledger/ledgerPlace';
import { openLedger } from '../ledger/openLedger';
import type { DryRunReport } from './dryRunReport';

/** Records the dry run (its report already redacted) and saves; resolves with where the ledger is. */
export async function recordDryRun(
  runbook: Runbook,
  report: DryRunReport,
  place: LedgerPlace,
): Promise<string> {
  const ledger = await openLedger(runbook.file, place);
  try {
    await ledger.recordDryRun({
      id: report.id,
      cell: report.cell,
      job: report.job,
      environment: report.environment.name,
      operator: report.operator,
      host: os.hostname(),
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      definitionHash: report.fingerprint.definition,
      contentHash: report.fingerprint.content,
      fingerprint: report.fingerprint.combined,
      passed: report.passed,
      total: report.counts.total,
      valid: report.counts.valid,
      rejected: report.counts.rejected,
      duplicates: report.counts.duplicates,
      report: JSON.stringify(report),
    });
    await ledger.save();
    return ledger.location;
  } finally {
    await ledger.close();
  }
}
