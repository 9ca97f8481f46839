/**
 * The runner: sends an execute cell's records to the target — or checks a verify cell's records' end
 * states — throttled, with retries, an error budget, live control and a checkpoint of every record's
 * outcome, so a crash or a stop at any instant loses nothing and a re-run resumes exactly: finished
 * records are skipped, records that were in flight are sent again with the same idempotency key.
 *
 * This file only wires the parts, each with one reason to change:
 * - runPlanning.ts, with resumePlan.ts (pure) and resumePlanLoader.ts: the fingerprint, and whether to
 *   resume, refuse, restart or re-run, from the ledger, before anything is recorded;
 * - recordFeed.ts: the source's records this run attempts;
 * - dispatcher.ts: rate, concurrency, retries, back-pressure, live control;
 * - outcomeRecorder.ts: the journal and the ledger;
 * - liveStatus.ts and liveControl.ts: the status others read, the commands they send;
 * - sharedRunWork.ts: a run shared by workers through a PostgreSQL ledger (chunks, its end);
 * - verdict.ts: how the run ended.
 * What one attempt does is an {@link AttemptStrategy}: the job's action (execution) or the cell's check
 * (verification).
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { journalFileIn, scanJournal } from '../ledger/journalFile';
import { ledgerPlaceOf, type LedgerPlace } from '../ledger/ledgerPlace';
import { chunkSettingsOf } from '../fleet/chunkRanges';
import { releaseDeadLocalLeases, workedSharedRun } from '../fleet/chunkLeases';
import type { SharedRunOptions } from '../fleet/sharedRun';
import { processExists } from '../ledger/durableFs';
import { assertStateDirUsable, ledgerFileIn, stateDirFor } from '../ledger/statePaths';
import { RefusedError, UserError } from '../model/types';
import { SecretResolver } from '../secrets/secrets';
import { haltFileFor } from './control';
import { OutcomeRecorder } from './outcomeRecorder';
import type { RunResult } from './runEvents';
import type { RunRecord } from '../model/runs';
import { Run } from './run';
import { hasUnfoldedJournal, releaseLock, takeLock } from './runLock';
import type { RunOptions } from './runOptions';
import { isStateWriteFailure, stateWriteHaltReason } from './stateWriteFailure';
import { awaitRun, DEFAULT_RUN_WAIT_SECONDS, openWhenReachable } from '../fleet/workerStart';
import { outageAllowanceMsOf, outageSettingOf } from '../ledger/postgresOutage';
export type { Rerun, RunEvent, RunPlan, RunResult } from './runEvents';
export type { RunOptions } from './runOptions';

export async function runBackfill(options: RunOptions): Promise<RunResult> {
  const stateDir = stateDirFor(options.runbook.file);
  const haltFile = haltFileFor(options.runbook.file);
  if (fs.existsSync(haltFile)) {
    throw new UserError(
      `halt file ${haltFile} exists: remove it to allow the run (it stops runs of this runbook)`,
    );
  }
  assertStateDirUsable(stateDir);
  // A resume of a run that halted because the folder stopped taking writes halts the same way while it
  // still does; a folder that refuses writes before any run is a refusal of bad input (exit 2).
  const resuming = hasUnfoldedJournal(stateDir);
  const firstRun = !fs.existsSync(stateDir);
  try {
    return await runInStateDir(options, stateDir, haltFile);
  } catch (error) {
    if (firstRun && isBadInput(error)) removeStateOfRefusedRun(stateDir);
    if (!resuming || !isStateWriteFailure(error, stateDir)) throw error;
    return { outcome: 'halted', reason: stateWriteHaltReason(stateDir, error) };
  }
}

/** Bad input (exit 2), not a gate's refusal: a refused production attempt stays on record (issue 15). */
function isBadInput(error: unknown): boolean {
  return error instanceof UserError && !(error instanceof RefusedError);
}

/**
 * A refusal of bad input (a source whose header cannot be read, say) leaves nothing behind: the state
 * folder this run created goes again, unless it holds the outcome of a record, which is never thrown away.
 */
function removeStateOfRefusedRun(stateDir: string): void {
  if (fs.existsSync(ledgerFileIn(stateDir))) return;
  let outcomes = 0;
  try {
    scanJournal(journalFileIn(stateDir), (entry) => {
      if (entry.type === 'outcome') outcomes += 1;
    });
  } catch {
    return; // A journal that cannot be read is kept for a person to look at.
  }
  if (outcomes === 0) fs.rmSync(stateDir, { recursive: true, force: true });
}

async function runInStateDir(options: RunOptions, stateDir: string, haltFile: string): Promise<RunResult> {
  fs.mkdirSync(stateDir, { recursive: true });
  const runId = randomUUID();
  const startedAt = new Date().toISOString();
  const place = ledgerPlaceOf(
    options.runbook.header,
    options.environment,
    new SecretResolver(options.secretValues),
  );
  const lock = await takeLock(options.runbook.file, place, { runId, cell: options.job.cell, startedAt });
  try {
    // A shared run whose creator is gone while its workers still work is joined, not marked crashed.
    const resumable = !options.restart && !options.onlyFailed && !options.onlyUnverified;
    if (place.type === 'postgres' && resumable) {
      const where = sharedRunOf(options, place);
      await releaseDeadLocalLeases(place.url, where, options.job.cell, os.hostname(), processExists);
      const live = await workedSharedRun(place.url, where, options.job.cell);
      if (live) return await joinLiveRun(options, place, stateDir, haltFile, live);
    }
    const recorder = await OutcomeRecorder.open(options.runbook.file, runId, place);
    try {
      const shared = place.type === 'postgres' ? sharedRunOf(options, place) : undefined;
      const run = new Run(
        { ...options, ...(shared ? { shared } : {}) },
        recorder,
        stateDir,
        haltFile,
        runId,
        startedAt,
      );
      lock.onLost?.((reason) => run.halt(reason));
      const result = await run.execute();
      const block = options.onResult ? await recorder.resultBlock(options.job.cell, runId) : undefined;
      if (block) options.onResult?.(block);
      return result;
    } finally {
      await recorder.close();
    }
  } finally {
    releaseLock(lock);
  }
}

/** How a worker waits at its start (fleet/workerStart.ts). */
export interface WorkerStart {
  /** Told once what the worker waits for and for how long (the CLI writes it on stderr). */
  say?: (message: string) => void;
  /** Seconds to wait for the run of the cell to be created (default DEFAULT_RUN_WAIT_SECONDS). */
  runWaitSeconds?: number;
}

/**
 * `backfill worker`: joins the live run of the cell in the environment's PostgreSQL ledger and works on
 * its chunks until none is left. It takes no run lock (the run's creator holds it) and passes no gate of
 * its own: the creator passed them for this very job, which the worker checks by the fingerprint. At its
 * start it waits for the ledger's database (up to the ledger's `outageSeconds`) and then for the run to
 * be created (up to `start.runWaitSeconds`), so a scheduler may start the workers with the run.
 */
export async function joinBackfill(
  options: Omit<RunOptions, 'mode' | 'gate'>,
  start: WorkerStart = {},
): Promise<RunResult> {
  const since = Date.now();
  const { runbook, environment, job, signal } = options;
  const haltFile = haltFileFor(runbook.file);
  if (fs.existsSync(haltFile)) {
    throw new UserError(
      `halt file ${haltFile} exists: remove it to let workers of this host work (it stops runs of this runbook)`,
    );
  }
  const place = ledgerPlaceOf(runbook.header, environment, new SecretResolver(options.secretValues));
  if (place.type !== 'postgres') {
    throw new UserError(
      `environment ${environment.name} keeps its ledger beside the runbook: a run shared by workers needs ` +
        `its ledger in PostgreSQL (environments.${environment.name}.ledger: {type: postgres, url: \${secret:NAME}})`,
    );
  }
  const stateDir = stateDirFor(runbook.file);
  assertStateDirUsable(stateDir);
  fs.mkdirSync(stateDir, { recursive: true });
  const say = start.say ?? (() => undefined);
  const recorder = await openWhenReachable(() => OutcomeRecorder.open(runbook.file, '', place, false), {
    allowanceMs: outageAllowanceMsOf(place),
    setting: outageSettingOf(place),
    say,
    ...(signal ? { signal } : {}),
  });
  if (!recorder) return leftWhileWaiting("the ledger's database");
  try {
    const seconds = start.runWaitSeconds ?? DEFAULT_RUN_WAIT_SECONDS;
    const missing = noLiveRun(options, recorder.ledger.location);
    const found = await awaitRun(() => recorder.ledger.runs(job.cell), {
      allowanceMs: seconds * 1000,
      since,
      waiting: `waiting for a live run of cell ${job.cell} in ${recorder.ledger.location}, for up to ${seconds} s (--wait-for-run): ${missing.fix}`,
      missing: `${missing.message} (this worker waited ${seconds} s for it: --wait-for-run SECONDS)`,
      say,
      ...(signal ? { signal } : {}),
    });
    if (!found) return leftWhileWaiting(`a live run of cell ${job.cell}`);
    if ('ended' in found) return endedBeforeJoining(found.ended, undefined);
    return await workOnLiveRun(options, place, recorder, stateDir, haltFile, found.live);
  } finally {
    await recorder.close();
  }
}

/** A worker told to leave (SIGINT, SIGTERM) while it waited at its start: it took nothing. */
function leftWhileWaiting(what: string): RunResult {
  return {
    outcome: 'halted',
    reason: `stopped by signal while waiting for ${what}: this worker took nothing`,
  };
}

/** Why a worker found no run to join, and how to start one. */
function noLiveRun(
  options: Pick<RunOptions, 'runbook' | 'job' | 'environment'>,
  location: string,
): { message: string; fix: string } {
  const { runbook, job, environment } = options;
  const fix =
    `start it with backfill run ${runbook.file} --cell ${job.cell} --env ${environment.name} ` +
    '--execute (or --production)';
  return { message: `no live run of cell ${job.cell} in ${location}: ${fix} first`, fix };
}

/**
 * Works on the chunks of the live run of the cell (run `id`), as `backfill run` does when it finds its
 * run already shared by workers: no run lock needed, no gate of its own.
 */
async function joinLiveRun(
  options: Omit<RunOptions, 'mode' | 'gate'>,
  place: Extract<LedgerPlace, { type: 'postgres' }>,
  stateDir: string,
  haltFile: string,
  id: string,
): Promise<RunResult> {
  const { runbook, job } = options;
  const recorder = await OutcomeRecorder.open(runbook.file, '', place, false);
  try {
    const live = (await recorder.ledger.runs(job.cell)).find(
      (run) => run.outcome === 'running' && run.id === id,
    );
    if (!live) throw new UserError(noLiveRun(options, recorder.ledger.location).message);
    return await workOnLiveRun(options, place, recorder, stateDir, haltFile, live);
  } finally {
    await recorder.close();
  }
}

/** Works on the chunks of the live run `live`, as a worker; refused when this runbook's job is not the run's. */
async function workOnLiveRun(
  options: Omit<RunOptions, 'mode' | 'gate'>,
  place: Extract<LedgerPlace, { type: 'postgres' }>,
  recorder: OutcomeRecorder,
  stateDir: string,
  haltFile: string,
  live: RunRecord,
): Promise<RunResult> {
  const { job } = options;
  const shared = { ...sharedRunOf(options, place), join: live };
  const run = new Run(
    { ...options, mode: live.mode, shared },
    recorder,
    stateDir,
    haltFile,
    live.id,
    live.startedAt,
  );
  const result = await run.execute().catch(async (error: unknown) => {
    const now = (await recorder.ledger.runs(job.cell)).find((r) => r.id === live.id);
    return endedBeforeJoining(now, error);
  });
  const block = options.onResult ? await recorder.resultBlock(job.cell, live.id) : undefined;
  if (block) options.onResult?.(block);
  return result;
}

/**
 * A worker that found the run live but got to it after its last chunk was done (a late start, a slow
 * host) has nothing left to do: it reports the run's end instead of the resume plan's refusal, so a
 * scheduler that starts workers late (a Kubernetes Job's last pods) does not see a failure.
 */
export function endedBeforeJoining(now: RunRecord | undefined, error: unknown): RunResult {
  if (!now || now.outcome === 'running') throw error;
  return {
    outcome: now.outcome === 'crashed' ? 'halted' : now.outcome,
    reason: `run ${now.id} ended (${now.outcome}) before this worker took any of it: nothing was left to do`,
  };
}

/** How this runbook's environment shares runs through its PostgreSQL ledger. */
function sharedRunOf(
  options: Pick<RunOptions, 'runbook' | 'environment' | 'onChunk'>,
  place: Extract<LedgerPlace, { type: 'postgres' }>,
): SharedRunOptions {
  return {
    url: place.url,
    schema: place.schema ?? 'backfill',
    ledger: place.name,
    settings: chunkSettingsOf(options.runbook.header, options.environment.name),
    ...(options.onChunk ? { onChunk: options.onChunk } : {}),
  };
}
