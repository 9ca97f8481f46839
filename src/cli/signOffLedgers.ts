/**
 * Where sign-offs are recorded and where the production gate looks for them. `backfill sign` and the
 * editor record a sign-off in the ledger beside the runbook; a runbook whose production environment keeps
 * its ledger in PostgreSQL gets it there too, so a production run on another host finds it. The gate reads
 * the run's own ledger and, when that is PostgreSQL, the one beside the runbook as well.
 */
import type { Runbook } from '../core/format/runbook';
import { resolveEnvironment, type ResolvedEnvironment } from '../core/job/environment';
import type { Ledger } from '../core/ledger/ledger';
import { EMBEDDED_LEDGER, ledgerPlaceOf, type LedgerPlace } from '../core/ledger/ledgerPlace';
import { openLedger } from '../core/ledger/openLedger';
import type { SignOff } from '../core/model/runs';
import { SecretResolver } from '../core/secrets/secrets';

/** Every sign-off recorded where a production run of `environment` may look: its ledger, and the local one. */
export async function recordedSignOffs(
  runbook: Runbook,
  environment: ResolvedEnvironment,
  runLedger: Ledger,
): Promise<SignOff[]> {
  const recorded = await runLedger.signOffs();
  if (placeOf(runbook, environment).type === 'embedded') return recorded;
  const local = await openLedger(runbook.file);
  try {
    return [...recorded, ...(await local.signOffs())];
  } finally {
    await local.close();
  }
}

/**
 * Records a sign-off in the ledger beside the runbook and in each production environment's PostgreSQL
 * ledger. Returns a warning for each ledger it could not be recorded in (its secret not set, unreachable).
 */
export async function recordSignOffEverywhere(runbook: Runbook, signOff: SignOff): Promise<string[]> {
  const places: { what: string; place: () => LedgerPlace }[] = [
    { what: 'the ledger beside the runbook', place: () => EMBEDDED_LEDGER },
    ...Object.entries(runbook.header.environments)
      .filter(([, env]) => env.production && env.ledger !== undefined)
      .map(([name]) => ({
        what: `the ledger of environment ${name}`,
        place: () => placeOf(runbook, resolveEnvironment(runbook.header, name)),
      })),
  ];
  const warnings: string[] = [];
  for (const { what, place } of places) {
    try {
      const ledger = await openLedger(runbook.file, place());
      try {
        await ledger.recordSignOff(signOff);
        await ledger.save();
      } finally {
        await ledger.close();
      }
    } catch (error) {
      warnings.push(`the sign-off is in the runbook but not in ${what}: ${(error as Error).message}`);
    }
  }
  return warnings;
}

function placeOf(runbook: Runbook, environment: { name: string; vars: Record<string, string> }): LedgerPlace {
  return ledgerPlaceOf(runbook.header, environment, new SecretResolver(process.env));
}
