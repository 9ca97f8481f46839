/**
 * `backfill report`: the post-run document of a runbook, as self-contained HTML or as Markdown, written
 * beside the runbook by default. Secrets are redacted from the gathered data before it is laid out and
 * from the finished document again, so no secret reaches the file whatever path it took.
 */
import * as path from 'node:path';
import type { Runbook } from '../format/runbook';
import { replaceFileDurably } from '../ledger/durableFs';
import type { LedgerPlace } from '../ledger/ledgerPlace';
import { openLedger } from '../ledger/openLedger';
import type { Redactor } from '../secrets/secrets';
import { renderHtmlReport } from './htmlReport';
import { renderMarkdownReport } from './markdownReport';
import { buildReportModel, type ReportModel } from './reportModel';

export type ReportFormat = 'html' | 'md';

/** `runbooks/orders.backfill` → `runbooks/orders.report.html` (or `.md`). */
export function defaultReportPath(runbookFile: string, format: ReportFormat): string {
  const base = path.basename(runbookFile).replace(/\.backfill$/, '');
  return path.join(path.dirname(runbookFile), `${base}.report.${format}`);
}

/** Reads the ledger of a runbook into a report model with every secret redacted. */
export async function loadReportModel(
  runbook: Runbook,
  redactor: Redactor,
  options: { now?: Date; place?: LedgerPlace } = {},
): Promise<ReportModel> {
  const ledger = await openLedger(runbook.file, options.place);
  try {
    return redactor.redactValue(
      await buildReportModel(runbook, ledger, options.now ? { now: options.now } : {}),
    );
  } finally {
    await ledger.close();
  }
}

/** Renders a model in a format, redacting the finished text once more. */
export function renderReport(model: ReportModel, format: ReportFormat, redactor: Redactor): string {
  const text = format === 'html' ? renderHtmlReport(model) : renderMarkdownReport(model);
  return redactor.redact(text);
}

/** Writes the report atomically, so a reader never sees half of one. */
export function writeReport(file: string, text: string): void {
  replaceFileDurably(path.resolve(file), Buffer.from(text, 'utf8'));
}
