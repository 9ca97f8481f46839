/**
 * What a worker waits for when it starts (`backfill worker`): its ledger's database, and the live run it
 * joins. A scheduler starts everything at once — a Kubernetes Job's pods before the database proxy
 * sidecar they reach the ledger through is up, the workers before the run's own process has passed its
 * gates and cut the source into chunks — and exit 2 at once would fail the Job for good. So a worker that
 * finds neither yet waits, saying once what for and for how long, and gives up with a message naming
 * the setting that bounds the wait. This folder cannot depend on the vscode API.
 */
import { FIRST_RETRY_MS, isConnectionLoss, MAX_RETRY_MS } from '../ledger/postgresOutage';
import type { RunRecord } from '../model/runs';
import { UserError } from '../model/types';
import { abortableSleep } from '../support/abortableSleep';

/** How long a worker waits for the run of its cell to be created, unless told otherwise (`--wait-for-run`). */
export const DEFAULT_RUN_WAIT_SECONDS = 300;

/** How often a waiting worker looks for the run: it joins within this of the run's creation. */
export const RUN_POLL_MS = 500;

/** How a wait is told, bounded and ended. */
export interface StartWait {
  /** Said once, when the wait begins (the CLI writes it on stderr). */
  say(message: string): void;
  /** Aborted: the worker was told to leave; the wait ends without an answer. */
  signal?: AbortSignal;
  /** The clock and the sleep; tests pass fake ones. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The database a worker waits for: where it is (no password) and the setting that bounds the wait. */
export interface DatabaseWait extends StartWait {
  /** How long the database may stay unreachable: the ledger's `outageSeconds`, in ms. */
  allowanceMs: number;
  /** The setting, for the messages: `environments.prod.ledger.outageSeconds`. */
  setting: string;
}

/**
 * Runs `open` (which connects) until it succeeds, retrying with backoff (250 ms doubling to 5 s) while it
 * fails because the database cannot be reached, for up to `allowanceMs` from the first failure.
 * Undefined when the signal aborted the wait; a UserError naming the setting when the database never
 * came; any other failure (a wrong password, a schema from a newer backfill) is thrown at once.
 */
export async function openWhenReachable<T>(
  open: () => Promise<T>,
  wait: DatabaseWait,
): Promise<T | undefined> {
  const now = wait.now ?? Date.now;
  const sleep = wait.sleep ?? abortableSleep;
  const seconds = wait.allowanceMs / 1000;
  let deadline: number | undefined;
  let delay = FIRST_RETRY_MS;
  for (;;) {
    try {
      return await open();
    } catch (error) {
      if (!isConnectionLoss(error)) throw error;
      const why = (error as Error).message;
      if (deadline === undefined) {
        deadline = now() + wait.allowanceMs;
        if (wait.allowanceMs > 0) {
          wait.say(
            `waiting for the ledger's database (${why}): retrying for up to ${seconds} s (${wait.setting})`,
          );
        }
      }
      const left = deadline - now();
      if (left <= 0) {
        throw new UserError(
          `the ledger's database could not be reached within ${seconds} s of this worker's start, as long ` +
            `as ${wait.setting} lets it wait (${why}): start the database (or the proxy the worker reaches ` +
            `it through), or raise ${wait.setting}, then start the worker again`,
        );
      }
      await sleep(Math.min(delay, left), wait.signal);
      if (wait.signal?.aborted) return undefined;
      delay = Math.min(MAX_RETRY_MS, delay * 2);
    }
  }
}

/** What a worker found of the run it is to join. */
export type RunToJoin =
  | { live: RunRecord }
  /** The run ended after the worker started, before it looked: nothing is left for it. */
  | { ended: RunRecord }
  | undefined;

/**
 * The run a worker joins among its cell's runs (newest first): the live one; else one that ended at or
 * after `since` (the worker's start), which it missed; else none yet. A run that ended before the worker
 * started is an earlier one: the worker waits for the next. (`endedAt` is the run host's clock.)
 */
export function runToJoin(runs: readonly RunRecord[], since: number): RunToJoin {
  const live = runs.find((run) => run.outcome === 'running');
  if (live) return { live };
  const ended = runs.find((run) => run.endedAt !== undefined && Date.parse(run.endedAt) >= since);
  return ended ? { ended } : undefined;
}

/** The run a worker waits for. */
export interface RunWait extends StartWait {
  /** How long to wait for the run to be created, ms (0: look once). */
  allowanceMs: number;
  /** When the worker started, ms since the epoch: a run that ended since then was missed, not old. */
  since: number;
  /** What to say while waiting, and when giving up (the UserError's message). */
  waiting: string;
  missing: string;
  pollMs?: number;
}

/**
 * Reads the cell's runs until one is live (or ended since the worker started), for up to `allowanceMs`.
 * Undefined when the signal aborted the wait; a UserError saying `missing` when no run came.
 */
export async function awaitRun(
  read: () => Promise<RunRecord[]>,
  wait: RunWait,
): Promise<Exclude<RunToJoin, undefined> | undefined> {
  const now = wait.now ?? Date.now;
  const sleep = wait.sleep ?? abortableSleep;
  const deadline = now() + wait.allowanceMs;
  for (let first = true; ; first = false) {
    const found = runToJoin(await read(), wait.since);
    if (found) return found;
    const left = deadline - now();
    if (left <= 0) throw new UserError(wait.missing);
    if (first) wait.say(wait.waiting);
    await sleep(Math.min(wait.pollMs ?? RUN_POLL_MS, left), wait.signal);
    if (wait.signal?.aborted) return undefined;
  }
}
