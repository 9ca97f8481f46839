/**
 * The secrets a front end knows, as one {@link Redactor} for everything the report layer writes: every
 * `${secret:NAME}` the runbook names, resolved from the environment the front end passes (process.env
 * on the CLI), and — as a second net — environment variables whose names say they hold a credential.
 */
import { SecretResolver, type Redactor } from '../secrets/secrets';

const SECRET_REFERENCE = /\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}/g;
const CREDENTIAL_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;
/** Short values under credential-like names are more likely flags ("1", "true") than credentials. */
const MIN_HEURISTIC_LENGTH = 8;

/** Names of the secrets a runbook's templates refer to, sorted and unique. */
export function secretNamesIn(runbookText: string): string[] {
  return [...new Set([...runbookText.matchAll(SECRET_REFERENCE)].map((match) => match[1]!))].sort();
}

/** A redactor for the runbook's secrets and credential-like variables of `environment`. */
export function redactorFor(
  runbookText: string,
  environment: Readonly<Record<string, string | undefined>>,
): Redactor {
  const resolver = new SecretResolver(environment);
  resolver.resolveAll(secretNamesIn(runbookText));
  const credentialNames = Object.entries(environment)
    .filter(([name, value]) => CREDENTIAL_NAME.test(name) && (value?.length ?? 0) >= MIN_HEURISTIC_LENGTH)
    .map(([name]) => name);
  resolver.resolveAll(credentialNames);
  return resolver.redactor();
}
