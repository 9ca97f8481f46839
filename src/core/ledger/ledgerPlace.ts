/**
 * Which ledger a command uses: the one beside the runbook, or — when the environment says so — a
 * PostgreSQL database shared by workers on many hosts. Decided once per command from the runbook's
 * environment and the secrets the adapter passes (the CLI's process environment, the extension's secret
 * storage); the URL is resolved here and never stored.
 *
 * This folder cannot depend on the vscode API.
 */
import type { Header } from '../format/schemas';
import type { SecretResolver } from '../secrets/secrets';
import { resolveConnectionUrl } from '../sources/configText';
import type { PostgresLedgerPlace } from './postgresLedger';

export type LedgerPlace = { type: 'embedded' } | ({ type: 'postgres' } & PostgresLedgerPlace);

/** The ledger beside the runbook, `<runbook>.d/ledger.sqlite`: the default. */
export const EMBEDDED_LEDGER: LedgerPlace = { type: 'embedded' };

/**
 * The ledger of environment `environment` (a name from `resolveEnvironment`) of a runbook. A PostgreSQL
 * URL whose secret is not set is refused with a UserError saying which one to export.
 */
export function ledgerPlaceOf(
  header: Header,
  environment: { name: string; vars: Record<string, string> },
  secrets: SecretResolver,
): LedgerPlace {
  const setting = header.environments[environment.name]?.ledger;
  if (!setting) return EMBEDDED_LEDGER;
  const url = resolveConnectionUrl(
    setting.url,
    { env: environment.vars, secrets },
    `environments.${environment.name}.ledger.url`,
  );
  return {
    type: 'postgres',
    url,
    name: setting.name ?? header.name,
    ...(setting.schema ? { schema: setting.schema } : {}),
    ...(setting.outageSeconds !== undefined ? { outageSeconds: setting.outageSeconds } : {}),
    environment: environment.name,
  };
}
