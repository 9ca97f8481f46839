/**
 * Where sign-offs are recorded and where the production gate looks for them. `backfill sign` and the
 * editor both record a sign-off through {@link recordSignOffEverywhere}: in the ledger beside the runbook,
 * and — for each production environment that keeps its ledger in PostgreSQL — there too, so a production
 * run on another host finds it. The gate reads the run's own ledger and, when that is PostgreSQL, the one
 * beside the runbook as well. The adapters pass the secrets they know (the CLI's process environment, the
 * editor's secret storage). This file cannot depend on the vscode API.
 */
import type { Runbook } from '../format/runbook';
import { resolveEnvironment, type ResolvedEnvironment } from '../job/environment';
import type { SignOff } from '../model/runs';
import { UserError } from '../model/types';
import { SecretResolver } from '../secrets/secrets';
import type { Ledger } from './ledger';
import { EMBEDDED_LEDGER, ledgerPlaceOf, type LedgerPlace } from './ledgerPlace';
import { openLedger } from './openLedger';

/** The secret values known for one environment (a database URL's password, say). */
export type SecretsOf = (
  environment: string,
) => Readonly<Record<string, string | undefined>> | Promise<Readonly<Record<string, string | undefined>>>;

/** Every sign-off recorded where a production run of `environment` may look: its ledger, and the local one. */
export async function recordedSignOffs(
  runbook: Runbook,
  environment: ResolvedEnvironment,
  runLedger: Ledger,
  secrets: SecretsOf,
): Promise<SignOff[]> {
  const recorded = await runLedger.signOffs();
  const place = ledgerPlaceOf(
    runbook.header,
    environment,
    new SecretResolver(await secrets(environment.name)),
  );
  if (place.type === 'embedded') return recorded;
  const local = await openLedger(runbook.file);
  try {
    return [...recorded, ...(await local.signOffs())];
  } finally {
    await local.close();
  }
}

/**
 * Records a sign-off (or its removal) in the ledger beside the runbook and in each production
 * environment's PostgreSQL ledger. Returns a warning for each ledger it could not be recorded in (its
 * secret not set, unreachable), saying that the sign-off is in the runbook but not there.
 */
export async function recordSignOffEverywhere(
  runbook: Runbook,
  signOff: SignOff,
  secrets: SecretsOf,
): Promise<string[]> {
  const warnings: string[] = [];
  for (const { what, place } of signOffPlaces(runbook, secrets)) {
    try {
      await recordIn(runbook.file, await place(), signOff);
    } catch (error) {
      warnings.push(`the sign-off is in the runbook but not in ${what}: ${(error as Error).message}`);
    }
  }
  return warnings;
}

/**
 * Every sign-off recorded where {@link recordSignOffEverywhere} records them, for showing which sign-offs
 * hold. A ledger that cannot be read (its secret not set, unreachable) adds nothing.
 */
export async function signOffsRecordedEverywhere(runbook: Runbook, secrets: SecretsOf): Promise<SignOff[]> {
  const recorded: SignOff[] = [];
  for (const { place } of signOffPlaces(runbook, secrets)) {
    try {
      const ledger = await openLedger(runbook.file, await place());
      try {
        recorded.push(...(await ledger.signOffs()));
      } finally {
        await ledger.close();
      }
    } catch {
      // Not readable from here: the gate of a run that can read it decides.
    }
  }
  return recorded;
}

/** The ledger beside the runbook, and the PostgreSQL ledger of each production environment that has one. */
function signOffPlaces(
  runbook: Runbook,
  secrets: SecretsOf,
): { what: string; place: () => Promise<LedgerPlace> }[] {
  return [
    { what: 'the ledger beside the runbook', place: async () => EMBEDDED_LEDGER },
    ...Object.entries(runbook.header.environments)
      .filter(([, env]) => env.production && env.ledger !== undefined)
      .map(([name]) => ({
        what: `the ledger of environment ${name}`,
        place: async () =>
          ledgerPlaceOf(
            runbook.header,
            resolveEnvironment(runbook.header, name),
            new SecretResolver(await secrets(name)),
          ),
      })),
  ];
}

async function recordIn(file: string, place: LedgerPlace, signOff: SignOff): Promise<void> {
  // A run folding its journal may save the ledger beside the runbook at the same moment (a UserError
  // saying so): open it again and retry.
  for (let attempt = 1; ; attempt += 1) {
    const ledger = await openLedger(file, place);
    try {
      await ledger.recordSignOff(signOff);
      await ledger.save();
      return;
    } catch (error) {
      if (!(error instanceof UserError) || attempt >= 3) throw error;
    } finally {
      await ledger.close();
    }
  }
}
