/**
 * Connections to PostgreSQL for sources, SQL actions and checks: the URL comes from a secret, the
 * session is in UTC with the backfill's type parsers, and every failure to connect becomes one clear
 * sentence that never shows the password (nor the URL, which holds it). This file cannot depend on the
 * vscode API.
 */
import { Client, Pool, type ClientConfig } from 'pg';
import { UserError } from '../../model/types';
import { recordTypes } from '../../support/postgres/values';
import { describeUrl, scrub } from '../configText';

export {
  describeUrl,
  resolveConfigText,
  resolveConnectionUrl,
  scrub,
  secretNamesOf,
  type ConnectionContext,
} from '../configText';

function clientConfig(url: string, extra: Partial<ClientConfig> = {}): ClientConfig {
  // The UTC session makes timestamps read the same whoever runs the backfill, so their hash is stable.
  return { connectionString: url, types: recordTypes, options: '-c TimeZone=UTC', ...extra };
}

/** Connects one client, or throws a UserError saying why in words (no password, no stack). */
export async function connectClient(url: string, extra: Partial<ClientConfig> = {}): Promise<Client> {
  let client: Client | undefined;
  try {
    // The constructor parses the URL: a malformed one (a port of 99999) throws here, not on connect.
    client = new Client(clientConfig(url, extra));
    // A connection dropped later surfaces on the next query; without a listener it would crash the process.
    client.on('error', () => undefined);
    await client.connect();
    return client;
  } catch (error) {
    await client?.end().catch(() => undefined);
    throw connectionError(error, url);
  }
}

/** A pool of `size` connections, errors on idle clients swallowed (the next query reports them). */
export function createPool(url: string, size: number, extra: Partial<ClientConfig> = {}): Pool {
  try {
    const pool = new Pool({ ...clientConfig(url, extra), max: size });
    pool.on('error', () => undefined);
    return pool;
  } catch (error) {
    throw connectionError(error, url);
  }
}

/** Why connecting failed, for a person: the database's words or the network's, never the URL. */
export function connectionError(error: unknown, url: string): UserError {
  // The original stays as the cause (never shown): whoever retries tells a refused connection from a bad password by its code.
  return Object.assign(describeConnectionError(error, url), { cause: error });
}

function describeConnectionError(error: unknown, url: string): UserError {
  const where = describeUrl(url);
  const message = scrub((error as Error)?.message ?? String(error), url);
  const code = (error as { code?: string }).code;
  if (code === '28P01' || code === '28000') {
    return new UserError(
      `cannot connect to PostgreSQL at ${where}: ${message}: check the user and password in the connection secret`,
    );
  }
  if (code === 'ERR_INVALID_URL') {
    return new UserError(
      'cannot connect to PostgreSQL: the connection URL is not a valid URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE, with a port up to 65535 and the password URL-encoded): check the connection secret',
    );
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
    return new UserError(
      `cannot connect to PostgreSQL at ${where}: ${message}: is the database running and reachable from here?`,
    );
  }
  return new UserError(`cannot connect to PostgreSQL at ${where}: ${message}`);
}

/**
 * Follows a live `control concurrency N` raise: the pool may open up to N connections from now on. A
 * lower N keeps the connections open (idle ones close by themselves); the runner sends fewer at once.
 */
export function growPool(pool: Pool, size: number): void {
  if (size > pool.options.max!) pool.options.max = size;
}
