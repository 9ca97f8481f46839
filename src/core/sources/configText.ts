/**
 * Configuration text of the kinds that connect to a server (a database or broker URL, a query
 * parameter): `${env:…}`, `${var:…}` and `${secret:…}` filled in, and URLs said or scrubbed without their
 * password. This folder cannot depend on the vscode API.
 */
import type { SecretLookup } from '../secrets/secrets';
import { UserError } from '../model/types';

/** What resolving `${env:…}`/`${secret:…}` in a connection URL or a parameter needs. */
export interface ConnectionContext {
  env: Readonly<Record<string, string>>;
  secrets: { resolve(name: string): SecretLookup };
}

const PLACEHOLDER = /\$\{(env|var|secret):([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Fills `${env:NAME}` / `${var:NAME}` (the environment's vars and `--var` overrides) and `${secret:NAME}`
 * in configuration text (a URL, a parameter value). Throws a UserError naming what is missing.
 */
export function resolveConfigText(text: string, ctx: ConnectionContext, what: string): string {
  return text.replace(PLACEHOLDER, (_whole, kind: string, name: string) => {
    if (kind === 'secret') {
      const lookup = ctx.secrets.resolve(name);
      if (!lookup.ok) throw new UserError(`${what}: ${lookup.reason}`);
      return lookup.value;
    }
    const value = ctx.env[name];
    if (value === undefined) {
      throw new UserError(
        `${what}: \${${kind}:${name}} is not set: add ${name} to the environment's vars or pass --var ${name}=…`,
      );
    }
    return value;
  });
}

/**
 * Fills a connection URL like {@link resolveConfigText}, and refuses one whose password does not come from
 * a secret: `${env:…}` and `${var:…}` values are recorded with the run (ledger, report, the command to
 * reproduce it), and text written out is in the runbook, so a password from either would be kept in the
 * clear. Accepted: the whole URL as `${secret:NAME}`, a password written as `${secret:NAME}`, or no
 * password at all.
 */
export function resolveConnectionUrl(text: string, ctx: ConnectionContext, what: string): string {
  const url = resolveConfigText(text, ctx, what);
  const written = writtenPassword(text);
  const fromSecret =
    written !== undefined
      ? passwordWrittenSafely(text)
      : secretNamesOf(text).length > 0 || passwordOf(url) === '';
  if (!fromSecret) {
    throw new UserError(
      `${what}: the connection URL's password does not come from a secret: a password written in the runbook or taken from \${env:…}/\${var:…} is kept in the clear with the run (ledger, report); write the password as \${secret:NAME}, or the whole URL as \${secret:NAME}`,
    );
  }
  return url;
}

/**
 * Whether a URL's text, before its placeholders are filled, writes no password, an empty one, or one that is
 * exactly `${secret:NAME}`: a password written out or taken from `${env:…}`/`${var:…}` would be kept in the
 * clear. A URL that is one placeholder as a whole is judged once filled ({@link resolveConnectionUrl}).
 */
export function passwordWrittenSafely(text: string): boolean {
  const written = writtenPassword(text);
  return written === undefined || written === '' || /^\$\{secret:[A-Za-z_][A-Za-z0-9_]*\}$/.test(written);
}

/**
 * The password as written in a URL's text, placeholders kept, or undefined when none is written. The
 * placeholders are set aside first: the colon of `${env:USER}` in the user part is not the password's.
 */
function writtenPassword(text: string): string | undefined {
  const placeholders: string[] = [];
  // Each placeholder becomes a mark no URL holds (private-use characters), without `:`, `@` or `/`.
  const masked = text.replace(PLACEHOLDER, (whole) => `\uE000${placeholders.push(whole) - 1}\uE001`);
  const written = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:]*:([^@/]*)@/.exec(masked);
  return written?.[1]!.replace(/\uE000(\d+)\uE001/g, (_whole, index: string) => placeholders[Number(index)]!);
}

function passwordOf(url: string): string {
  try {
    return new URL(url).password;
  } catch {
    return '';
  }
}

/** Names of the secrets a configuration text refers to. */
export function secretNamesOf(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].filter((m) => m[1] === 'secret').map((m) => m[2]!);
}

/** Where a URL points, without its user and password: `127.0.0.1:5432/orders`. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return 'the database';
  }
}

/** Removes the URL and its password from a message, should a driver ever include them. */
export function scrub(message: string, url: string): string {
  let text = message.split(url).join('[connection url]');
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password.length > 0) text = text.split(password).join('[redacted]');
  } catch {
    // Not a URL: nothing more to remove.
  }
  return text;
}
