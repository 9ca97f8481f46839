import { resolveEnvironment } from '../core/job/environment';
import type { Runbook } from '../core/format/runbook';
import { EMBEDDED_LEDGER, ledgerPlaceOf, type LedgerPlace } from '../core/ledger/ledgerPlace';
import { SecretResolver } from '../core/secrets/secrets';

/** The `--env` option of the commands that read a ledger. */
export const LEDGER_ENV_OPTION = [
  '--env <name>',
  "whose ledger to read, when an environment's `ledger:` puts it in PostgreSQL (default: the runbook default)",
] as const;

/**
 * The ledger a reading command (status, ledger, report) opens: the environment's, with its URL's secret
 * from this process's environment. A runbook whose environments all keep the ledger beside it needs no
 * `--env`, even when every environment is production.
 */
export function ledgerPlaceForCommand(runbook: Runbook, environment: string | undefined): LedgerPlace {
  const shared = Object.values(runbook.header.environments).some((env) => env.ledger !== undefined);
  if (environment === undefined && !shared) return EMBEDDED_LEDGER;
  const resolved = resolveEnvironment(runbook.header, environment);
  return ledgerPlaceOf(runbook.header, resolved, new SecretResolver(process.env));
}
