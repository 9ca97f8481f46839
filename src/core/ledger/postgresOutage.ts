/**
 * Riding out the PostgreSQL ledger going away (a restart, a failover, a network cut): which errors mean
 * "the connection is gone, try again on a new one", and the backoff that retries an idempotent operation
 * on a fresh connection until the database is back or the outage allowance runs out. Any other error (a
 * constraint violation, a full disk) is no outage: it is thrown at once.
 *
 * This folder cannot depend on the vscode API.
 */

/** How long a run waits for its ledger to come back before it halts, unless the runbook says otherwise. */
export const DEFAULT_OUTAGE_SECONDS = 300;

/** Where a ledger's outage allowance is set: what a run's outage and a worker's start wait by. */
export interface OutagePlace {
  /** The runbook environment whose ledger this is. */
  environment?: string;
  outageSeconds?: number;
}

/** The setting that says how long an outage may last: `environments.prod.ledger.outageSeconds`. */
export function outageSettingOf(place: OutagePlace): string {
  return `environments.${place.environment ?? '<environment>'}.ledger.outageSeconds`;
}

/** How long the database may stay unreachable, in ms. */
export function outageAllowanceMsOf(place: OutagePlace): number {
  return (place.outageSeconds ?? DEFAULT_OUTAGE_SECONDS) * 1000;
}

/** The retry's first wait, doubled after each failure up to {@link MAX_RETRY_MS}. */
export const FIRST_RETRY_MS = 250;
export const MAX_RETRY_MS = 5000;

/** Socket errors of a connection that is gone or cannot be made. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server going away: admin_shutdown (a fast stop or restart), crash_shutdown,
 * cannot_connect_now (starting up or shutting down), and class 08, connection exceptions.
 */
const SERVER_GONE_CODES = new Set(['57P01', '57P02', '57P03']);

/** What node-postgres says when the socket ended under a query, or a query is made on a dead client. */
const CONNECTION_LOST_MESSAGES = [
  /Connection terminated/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /Connection lost/i,
];

/**
 * True when `error` says the connection to the database is gone (or could not be made), so the same
 * operation may succeed on a new connection once the database is back; false for every other failure.
 */
export function isConnectionLoss(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 5; depth += 1) {
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code) || SERVER_GONE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
      if (/^[0-9A-Z]{5}$/.test(code)) return false; // any other SQLSTATE: the database answered
    }
    if (typeof message === 'string' && CONNECTION_LOST_MESSAGES.some((pattern) => pattern.test(message))) {
      return true;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

export interface OutageRetry {
  /** Makes a new connection; a failure of it counts as the outage going on. */
  reconnect(): Promise<void>;
  /** How long the database may stay unreachable, counted from the first failure. */
  allowanceMs: number;
  /** Told once when the outage starts (with the error) and once when it ends (undefined). */
  onOutage?: (error: unknown | undefined) => void;
  /** The wait between tries; a test passes a fake one. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `operation`, and while it fails because the connection is gone, reconnects with backoff (250 ms
 * doubling to 5 s) and runs it again — so `operation` must be idempotent: a commit whose answer was lost
 * may have been applied. Throws the operation's error when it is no connection loss, and the last one
 * when the database stayed unreachable longer than the allowance.
 */
export async function retryThroughOutage<T>(operation: () => Promise<T>, retry: OutageRetry): Promise<T> {
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let since: number | undefined;
  let delay = FIRST_RETRY_MS;
  let connected = true;
  let failure: unknown;
  for (;;) {
    if (connected) {
      try {
        const result = await operation();
        if (since !== undefined) retry.onOutage?.(undefined);
        return result;
      } catch (error) {
        if (!isConnectionLoss(error)) throw error;
        failure = error;
      }
    }
    if (since === undefined) {
      since = Date.now();
      retry.onOutage?.(failure);
    }
    if (Date.now() - since >= retry.allowanceMs) {
      throw failure instanceof Error ? failure : new Error('the database stayed unreachable');
    }
    await sleep(delay);
    delay = Math.min(MAX_RETRY_MS, delay * 2);
    try {
      await retry.reconnect();
      connected = true;
    } catch (error) {
      connected = false;
      failure = error;
    }
  }
}
