/**
 * Connections to PostgreSQL for sources, SQL actions and checks: the URL comes from a secret, the
 * session is in UTC with the backfill's type parsers, and every failure to connect becomes one clear
 * sentence that never shows the password (nor the URL, which holds it). This file cannot depend on the
 * vscode API.
 */
import { Client, Pool, type ClientConfig } from 'pg';
import type { SecretLookup } from '../../secrets/secrets';
import { UserError } from '../../model/types';
import { recordTypes } from '../../support/postgres/values';

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

function clientConfig(url: string, extra: Partial<ClientConfig> = {}): ClientConfig {
  // The UTC session makes timestamps read the same whoever runs the backfill, so their hash is stable.
  return { connectionString: url, types: recordTypes, options: '-c TimeZone=UTC', ...extra };
}

/** Connects one client, or throws a UserError saying why in words (no password, no stack). */
export async function connectClient(url: string, extra: Partial<ClientConfig> = {}): Promise<Client> {
  const client = new Client(clientConfig(url, extra));
  // A connection dropped later surfaces on the next query; without a listener it would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectionError(error, url);
  }
}

/** A pool of `size` connections, errors on idle clients swallowed (the next query reports them). */
export function createPool(url: string, size: number, extra: Partial<ClientConfig> = {}): Pool {
  const pool = new Pool({ ...clientConfig(url, extra), max: size });
  pool.on('error', () => undefined);
  return pool;
}

/** Why connecting failed, for a person: the database's words or the network's, never the URL. */
export function connectionError(error: unknown, url: string): UserError {
  const where = describeUrl(url);
  const message = scrub((error as Error)?.message ?? String(error), url);
  const code = (error as { code?: string }).code;
  if (code === '28P01' || code === '28000') {
    return new UserError(
      `cannot connect to PostgreSQL at ${where}: ${message}: check the user and password in the connection secret`,
    );
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
    return new UserError(
      `cannot connect to PostgreSQL at ${where}: ${message}: is the database running and reachable from here?`,
    );
  }
  return new UserError(`cannot connect to PostgreSQL at ${where}: ${message}`);
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
