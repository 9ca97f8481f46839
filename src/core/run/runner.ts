/**
 * The runner: sends an execute cell's records to the target — or checks a verify cell's records' end
 * states — throttled (rate limit that never bursts, concurrency cap, adaptive slowing on 429/503), with
 * retries, an error budget, live control and a checkpoint of every record's outcome in an fsync'd
 * journal — so a crash or a stop at any instant loses nothing and a re-run resumes exactly: finished
 * records are skipped, records that were in flight are sent again with the same idempotency key.
 *
 * What one attempt does is an {@link AttemptStrategy}: the job's action (execution) or the cell's check
 * (verification). Everything else here is shared by both.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { idempotencyKeyFor } from '../dryRun';
import type { ResolvedEnvironment } from '../environment';
import { fingerprintJob, type JobFingerprint } from '../fingerprint';
import type { Runbook } from '../format/runbook';
import type { Result } from '../format/schemas';
import type { ResolvedJob } from '../job';
import { openLedgerForRun, type Journal } from '../ledger/journal';
import { assertStateDirUsable, stateDirFor, type Ledger, type StatusCounts } from '../ledger/ledger';
import { acquireRunLock, markCrashedRuns } from '../ledger/lock';
import { resultOfRun } from '../report/cellResult';
import { Redactor, SecretResolver } from '../secrets';
import { openSource } from '../sources/openSource';
import { RecordValidator } from '../sources/recordValidator';
import { createSubsetFilter, type SubsetFilter } from '../sources/subsetFilter';
import { RefusedError, UserError, type SourceItem } from '../types';
import { findVerificationGaps } from '../verify/gaps';
import { createVerificationStrategy } from '../verify/verificationStrategy';
import { AdaptiveRate } from './adaptiveRate';
import { createExecutionStrategy, type AttemptStrategy, type PreparedUnit } from './attemptStrategy';
import { retryDelayMs } from './backoff';
import { realClock, type Clock } from './clock';
import { haltFileFor, readControl, resetControl, watchControl, type ControlState } from './control';
import { ErrorBudget } from './errorBudget';
import type { GateDecision } from './gate';
import { LatencyStats, RateMeter } from './latencyStats';
import { startMetricsServer, type MetricsServer } from './metricsServer';
import { PermitReserve } from './permitReserve';
import { RateLimiter } from './rateLimiter';
import { writeStatus, type RunState, type RunStatus } from './runStatus';
import { sourceContentHash } from './sourceHash';
import { RECORD_STATUSES, UNVERIFIED_STATUSES } from './types';
import type { AttemptResult, ErrorKind, RecordOutcome, RecordStatus, RunOutcome, RunRecord } from './types';

export interface RunOptions {
  runbook: Runbook;
  job: ResolvedJob;
  environment: ResolvedEnvironment;
  /** `verify` for a verify cell (its job carries the check): reads end states, sends no action. */
  mode: 'execute' | 'production' | 'verify';
  secretValues: Record<string, string | undefined>;
  operator: string;
  /** Start a new run chain instead of resuming or refusing. */
  restart?: boolean;
  /** Re-run exactly the records that failed (could not be checked, for a verification) in the latest chain. */
  onlyFailed?: boolean;
  /**
   * An execute cell: re-run exactly the records the latest verification of its job found mismatched or
   * missing (the gaps). A verify cell: re-check exactly the records its latest chain did not verify.
   */
  onlyUnverified?: boolean;
  /** Gates that need the fingerprint and the ledger (production); checked after the lock is taken. */
  gate?: (fingerprint: JobFingerprint, ledger: Ledger) => GateDecision;
  /** Called once the plan is known, before the first record is sent. */
  onPlan?: (plan: RunPlan) => void;
  /**
   * Called once the run ended and its outcome is in the ledger, with the cell's result block as the ledger
   * has it — from the ledger the run already holds, so writing the block needs no second load of it.
   */
  onResult?: (result: Result) => void;
  onEvent?: (event: RunEvent) => void;
  metricsPort?: number;
  /** Aborting it is a stop: the same as `backfill control FILE stop`. */
  signal?: AbortSignal;
  clock?: Clock;
}

export interface RunPlan {
  run: string;
  chain: string;
  resumed: boolean;
  /** What the run does to each record. */
  kind: 'execute' | 'verify';
  target: string;
  /** Set when the run re-runs chosen records only (`--only failed` or `--only unverified`). */
  rerun?: Rerun;
  total?: number;
  alreadyDone: number;
  rate: number;
  concurrency: number;
  estimatedSeconds?: number;
  fingerprint: string;
}

export type RunEvent =
  | { type: 'start'; at: string; plan: RunPlan }
  | { type: 'progress'; at: string; status: RunStatus }
  | {
      type: 'error';
      at: string;
      key: string;
      line: number;
      kind: ErrorKind;
      message: string;
      httpStatus?: number;
    }
  | { type: 'halt'; at: string; reason: string }
  | { type: 'finish'; at: string; outcome: RunOutcome; status: RunStatus };

export interface RunResult {
  outcome: RunOutcome | 'refused';
  reason?: string;
  status?: RunStatus;
  /** 0 succeeded, 1 below threshold, 3 halted (resumable), 4 refused by a gate. */
  exitCode: 0 | 1 | 3 | 4;
}

/** The records a run re-runs instead of the whole selection, and why. */
export interface Rerun {
  only: 'failed' | 'unverified';
  records: number;
  /** For a gap re-backfill: the verification run that found the gaps. */
  verification?: string;
}

/** The records chosen for a re-run, and the verification loop that chose them (gap re-backfills). */
interface RerunSelection extends Rerun {
  keys: Set<string>;
}

type Unit = PreparedUnit;

const CONTROL_POLL_MS = 50;
/**
 * Units per concurrency slot that may wait for their outcome's fsync while new ones are sent: a kill -9
 * sends again at most `concurrency × (1 + DURABILITY_WINDOW_PER_SLOT)` units, in practice the units in
 * flight plus a few milliseconds' worth. Sixteen keeps a no-op action from waiting on fsyncs of 5 ms.
 */
export const DURABILITY_WINDOW_PER_SLOT = 16;
const ERROR_SAMPLES_PER_KIND = 20;
/** Longest expected or actual value a mismatch stores: enough to see what is wrong, never a whole document. */
const MAX_STORED_VALUE_LENGTH = 2000;

export async function runBackfill(options: RunOptions): Promise<RunResult> {
  const stateDir = stateDirFor(options.runbook.file);
  const haltFile = haltFileFor(options.runbook.file);
  if (fs.existsSync(haltFile)) {
    throw new UserError(
      `halt file ${haltFile} exists: remove it to allow the run (it stops runs of this runbook)`,
    );
  }
  assertStateDirUsable(stateDir);
  fs.mkdirSync(stateDir, { recursive: true });
  const runId = randomUUID();
  const startedAt = new Date().toISOString();
  const lock = takeLock(stateDir, runId, options.job.cell, startedAt);
  try {
    const { ledger, journal } = await openLedgerForRun(options.runbook.file);
    try {
      markCrashedRuns(ledger, runId);
      const run = new Run(options, ledger, journal, stateDir, haltFile, runId, startedAt);
      const result = await run.execute();
      reportResult(options, ledger, runId);
      return result;
    } finally {
      await journal.close();
      ledger.close();
    }
  } finally {
    releaseLock(lock);
  }
}

/**
 * Hands `onResult` the run's result block, once the run is recorded as ended: a run whose state folder
 * stopped taking writes is still `running` in the ledger and has no result to record.
 */
function reportResult(options: RunOptions, ledger: Ledger, runId: string): void {
  if (!options.onResult) return;
  const run = ledger.runs(options.job.cell).find((r) => r.id === runId);
  if (run && run.outcome !== 'running') options.onResult(resultOfRun(ledger, run));
}

/**
 * A lock that cannot be removed (the state folder became read-only) must not hide the run's result: it
 * names this process, so once it has exited the next run takes the lock over as stale.
 */
function releaseLock(lock: { release(): void }): void {
  try {
    lock.release();
  } catch {
    // Left behind as a stale lock; see above.
  }
}

/** One writer at a time: a second concurrent run of the same runbook is refused by this gate. */
function takeLock(stateDir: string, runId: string, cell: string, startedAt: string) {
  try {
    return acquireRunLock(stateDir, { pid: process.pid, host: os.hostname(), runId, cell, startedAt });
  } catch (error) {
    if (error instanceof UserError && !(error instanceof RefusedError)) throw new RefusedError(error.message);
    throw error;
  }
}

class Run {
  private readonly clock: Clock;
  private readonly secrets: SecretResolver;
  private readonly redactor: Redactor;
  private readonly latency = new LatencyStats();
  private readonly meter: RateMeter;
  private readonly errorsByKind: Partial<Record<ErrorKind, number>> = {};
  /** Outcomes this run recorded, by status. */
  private readonly counts: StatusCounts = zeroCounts();
  /** Records skipped because an earlier run of the chain finished them. */
  private skipped = 0;
  /** Outcomes of earlier runs of the chain, less the records this run re-runs. */
  private earlier: StatusCounts = zeroCounts();
  private inFlight = 0;
  /** Units sent, or being sent, whose outcome is not yet fsync'd: what a kill -9 would send again. */
  private undurable = 0;
  /** Pending while the dispatcher waits for room; `wake` resolves it. */
  private release: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** An attempt threw (a bug): nothing more is sent and the run reports it. */
  private internalFailure: Error | undefined;
  private state: RunState = 'running';
  private haltReason: string | undefined;
  /** Aborted on stop: ends waits for a rate permit, a backoff or a resume at once. */
  private readonly dispatchStop = new AbortController();
  /** Aborted when the grace period after a stop ends: aborts requests still in flight. */
  private readonly hardStop = new AbortController();
  private controlSeq = 0;
  private resumeWaiters: (() => void)[] = [];
  private run!: RunRecord;
  private total: number | undefined;
  private rate!: AdaptiveRate;
  private limiter!: RateLimiter;
  /** The dispatch loop's permits, taken a little ahead at rates above what timers can pace one by one. */
  private permits!: PermitReserve;
  /** The live concurrency cap (`control concurrency N` changes it). */
  private concurrency!: number;
  /** Units whose attempt is under way: what the concurrency cap counts. */
  private attempting = 0;
  private budget!: ErrorBudget;
  private flushing: Promise<void> | undefined;
  /** Set once the state folder refused a write: nothing more can be checkpointed, so the run halts. */
  private stateWriteFailure: Error | undefined;
  private errorSamples = new Map<ErrorKind, number>();
  private strategy!: AttemptStrategy;

  constructor(
    private readonly options: RunOptions,
    private readonly ledger: Ledger,
    private readonly journal: Journal,
    private readonly stateDir: string,
    private readonly haltFile: string,
    private readonly runId: string,
    private readonly startedAt: string,
  ) {
    this.clock = options.clock ?? realClock;
    this.meter = new RateMeter(this.clock);
    this.secrets = new SecretResolver(options.secretValues);
    this.redactor = new Redactor(this.secrets);
    // Every attempt in flight and every wait listens to these two signals (at most `concurrency` plus
    // the dispatcher at a time, each removed when done): not a leak, so no MaxListenersExceededWarning.
    setMaxListeners(0, this.dispatchStop.signal, this.hardStop.signal);
  }

  /** A verification reads each record's end state; it sends no action and needs no idempotency key. */
  private get verifying(): boolean {
    return this.options.mode === 'verify';
  }

  async execute(): Promise<RunResult> {
    this.strategy = await this.createStrategy();
    try {
      return await this.executeWith();
    } finally {
      await this.strategy.close();
    }
  }

  /** The attempt strategy: the cell's check for a verification, the job's action otherwise. */
  private createStrategy(): Promise<AttemptStrategy> {
    const { job, runbook, environment } = this.options;
    const options = {
      baseDir: runbook.baseDir,
      environment,
      context: { env: environment.vars, secrets: this.secrets },
      file: runbook.file,
      checkCommand: `backfill check ${runbook.file}`,
    };
    if (!this.verifying) return createExecutionStrategy(job, options);
    if (!job.check) throw new Error(`internal error: cell ${job.cell} has no check to verify with`);
    return createVerificationStrategy(job.cell, job.check, {
      ...options,
      concurrency: job.throttle.concurrency,
    });
  }

  private async executeWith(): Promise<RunResult> {
    const { job, runbook, environment } = this.options;
    const missing = this.secrets.resolveAll(this.strategy.secretNames);
    if (missing.length > 0) throw new UserError(missing.join('; '));

    const contentHash = await sourceContentHash(job.source, {
      baseDir: runbook.baseDir,
      sourceLine: job.sourceLine,
      ...this.databaseSourceOptions(),
    });
    const fingerprint = fingerprintJob(job, environment, contentHash);
    const decision = this.options.gate?.(fingerprint, this.ledger);
    if (decision && !decision.allowed) {
      return {
        outcome: 'refused',
        reason: `refused by the ${decision.gate} gate: ${decision.reason}`,
        exitCode: 4,
      };
    }
    const chain = this.chooseChain(fingerprint);
    const rerun = this.selectRerun(chain.id);
    const doneKeys = rerun ? new Set<string>() : this.ledger.keysWithStatus(chain.id, RECORD_STATUSES);
    // Counts of earlier runs of the chain, so progress and the success threshold cover the whole chain.
    // Records being re-run start uncounted.
    this.earlier = this.earlierCounts(chain.id, rerun?.keys);
    const subset = createSubsetFilter(job.subset, { baseDir: runbook.baseDir });
    const sampled = job.subset?.sample?.count !== undefined ? await this.prepareSubset(subset) : undefined;
    this.total = rerun ? sumOf(this.earlier) + rerun.keys.size : (this.expectedTotal(fingerprint) ?? sampled);

    this.rate = new AdaptiveRate(job.throttle.rate, this.clock);
    this.limiter = new RateLimiter(job.throttle.rate, this.clock);
    this.permits = new PermitReserve(this.limiter);
    this.concurrency = job.throttle.concurrency;
    this.budget = new ErrorBudget(job.errorBudget);
    this.run = {
      id: this.runId,
      chain: chain.id,
      cell: job.cell,
      job: job.job,
      mode: this.options.mode,
      environment: environment.name,
      operator: this.options.operator,
      host: os.hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      fingerprint: fingerprint.combined,
      params: JSON.stringify(
        this.redactor.redactValue({
          throttle: job.throttle,
          subset: job.subset ?? null,
          errorBudget: job.errorBudget,
          restart: !!this.options.restart,
          onlyFailed: !!this.options.onlyFailed,
          onlyUnverified: !!this.options.onlyUnverified,
          ...(rerun?.verification ? { verification: rerun.verification } : {}),
          vars: environment.vars,
        }),
      ),
      outcome: 'running',
    };
    this.ledger.startRun(this.run);
    this.journal.append({ type: 'run-start', run: this.run });
    await this.journal.flush();

    const plan = this.plan(chain, fingerprint, doneKeys.size, rerun);
    this.options.onPlan?.(plan);
    this.emit({ type: 'start', at: new Date().toISOString(), plan });

    resetControl(this.stateDir);
    const stopOnSignal = () => this.stop('stopped by signal');
    this.options.signal?.addEventListener('abort', stopOnSignal);
    // The watch acts on a command the moment it lands; the poll is for where watching does not work.
    const controlWatch = watchControl(this.stateDir, this.haltFile, () => this.pollControl());
    const timers = [
      setInterval(() => this.pollControl(), CONTROL_POLL_MS),
      setInterval(() => this.tick(), 1000),
    ];
    let metrics: MetricsServer | undefined;
    try {
      if (this.options.metricsPort !== undefined) {
        metrics = await startMetricsServer(this.options.metricsPort, () => this.status());
      }
      this.tick();
      await this.dispatchAll(fingerprint, doneKeys, subset, rerun);
    } finally {
      controlWatch.close();
      for (const timer of timers) clearInterval(timer);
      this.options.signal?.removeEventListener('abort', stopOnSignal);
      await metrics?.close();
    }
    return this.finish();
  }

  private plan(
    chain: { id: string; resumed: boolean },
    fingerprint: JobFingerprint,
    alreadyDone: number,
    rerun: RerunSelection | undefined,
  ): RunPlan {
    const { job } = this.options;
    const remaining = rerun
      ? rerun.keys.size
      : this.total !== undefined
        ? this.total - alreadyDone
        : undefined;
    return {
      run: this.runId,
      chain: chain.id,
      resumed: chain.resumed,
      kind: this.verifying ? 'verify' : 'execute',
      target: this.strategy.target,
      ...(rerun
        ? {
            rerun: {
              only: rerun.only,
              records: rerun.records,
              ...(rerun.verification ? { verification: rerun.verification } : {}),
            },
          }
        : {}),
      ...(this.total !== undefined ? { total: this.total } : {}),
      alreadyDone: rerun ? 0 : alreadyDone,
      rate: job.throttle.rate,
      concurrency: job.throttle.concurrency,
      ...(remaining !== undefined ? { estimatedSeconds: Math.max(0, remaining) / job.throttle.rate } : {}),
      fingerprint: fingerprint.combined,
    };
  }

  /**
   * Resume the latest chain of this cell when it did not finish; refuse what would be ambiguous. A
   * finished verification is simply verified again, in a new chain: it only reads.
   */
  private chooseChain(fingerprint: JobFingerprint): { id: string; resumed: boolean } {
    const cell = this.options.job.cell;
    const latest = this.ledger.latestRun(cell);
    if (this.options.restart || !latest) return { id: randomUUID(), resumed: false };
    const sameJob = latest.fingerprint === fingerprint.combined;
    const unfinished =
      latest.outcome === 'halted' || latest.outcome === 'crashed' || latest.outcome === 'running';
    const rerun = this.options.onlyFailed || this.options.onlyUnverified;
    if (!sameJob) {
      if (unfinished || rerun) {
        throw new UserError(
          `the job or its source data changed since run ${latest.id} of cell ${cell} (${latest.outcome}): ` +
            `${this.verifying ? 'verify' : 'dry-run it'} again, then start over with --restart`,
        );
      }
      return { id: randomUUID(), resumed: false };
    }
    if (unfinished && this.verifying && this.options.onlyUnverified) {
      // Re-checking only the gaps of a verification that never reached every record would end it
      // "succeeded" with records still unchecked.
      throw new UserError(
        `verification run ${latest.id} of cell ${cell} is ${latest.outcome}: finish it first with ` +
          `backfill run ${this.options.runbook.file} --cell ${cell}, then re-check with --only unverified`,
      );
    }
    if (unfinished || rerun) return { id: latest.chain, resumed: true };
    if (this.verifying) return { id: randomUUID(), resumed: false };
    throw new UserError(
      `cell ${cell} already finished in run ${latest.id} (${latest.outcome}): re-run its failed records ` +
        'with --only failed, the gaps a verification found with --only unverified, or everything with --restart',
    );
  }

  /** The records `--only failed` or `--only unverified` re-run, or undefined for a whole run. */
  private selectRerun(chain: string): RerunSelection | undefined {
    const { job, runbook } = this.options;
    if (this.options.onlyFailed) {
      const status = this.strategy.failureStatus;
      const keys = this.ledger.keysWithStatus(chain, [status]);
      if (keys.size === 0) {
        throw new UserError(`no ${status} records in the latest run of cell ${job.cell}: nothing to re-run`);
      }
      return { only: 'failed', records: keys.size, keys };
    }
    if (!this.options.onlyUnverified) return undefined;
    if (this.verifying) {
      const keys = this.ledger.keysWithStatus(chain, UNVERIFIED_STATUSES);
      if (keys.size === 0) {
        throw new UserError(
          `every record the latest verification of cell ${job.cell} checked is verified: nothing to re-check`,
        );
      }
      return { only: 'unverified', records: keys.size, keys };
    }
    const gaps = findVerificationGaps(runbook, this.ledger, job.job, job.cell);
    return {
      only: 'unverified',
      records: gaps.keys.size,
      keys: gaps.keys,
      verification: gaps.verification.id,
    };
  }

  /** The chain's counts by status, less the records about to be re-run (they get new outcomes). */
  private earlierCounts(chain: string, rerunKeys: Set<string> | undefined): StatusCounts {
    const counts = this.ledger.countByStatus(chain);
    for (const key of rerunKeys ?? []) {
      const outcome = this.ledger.outcomeOf(chain, key);
      if (outcome) counts[outcome.status] -= 1;
    }
    return counts;
  }

  private expectedTotal(fingerprint: JobFingerprint): number | undefined {
    // A passing dry run of the same job, data and subset selected exactly the records this run sends.
    for (const dryRun of this.ledger.dryRuns()) {
      if (!dryRun.passed || dryRun.fingerprint !== fingerprint.combined) continue;
      try {
        const report = JSON.parse(dryRun.report) as {
          counts?: { selected?: number; rejected?: number };
          fingerprint?: { subset?: string };
        };
        if (report.fingerprint?.subset !== fingerprint.subset || report.counts?.selected === undefined)
          continue;
        // Without a subset the run also records the source's malformed rows, so they are part of "done".
        return report.counts.selected + (this.options.job.subset ? 0 : (report.counts.rejected ?? 0));
      } catch {
        // an unreadable report only means the total is not known up front
      }
    }
    return undefined;
  }

  private async dispatchAll(
    fingerprint: JobFingerprint,
    doneKeys: Set<string>,
    subset: SubsetFilter,
    rerun: RerunSelection | undefined,
  ): Promise<void> {
    const { job, runbook } = this.options;
    const stream = openSource(job.source, {
      baseDir: runbook.baseDir,
      sourceLine: job.sourceLine,
      ...this.databaseSourceOptions(),
      snapshot: false,
    });
    const validator = new RecordValidator(job.source);
    const onlyKeys = rerun?.keys;
    const keyScope = idempotencyScope(fingerprint, rerun);
    const batchSize = this.strategy.batchSize;
    let batch: Unit[] = [];
    const finishedAsRead = finishedByRawKey(job.source.key, doneKeys, !onlyKeys && !job.subset);
    try {
      for await (const item of stream) {
        if (this.dispatchStop.signal.aborted) break;
        const finishedKey = finishedAsRead(item);
        if (finishedKey !== undefined) {
          if (validator.skipUnchecked(finishedKey, item.line)) this.skipped += 1;
          continue;
        }
        const checked = validator.check(item);
        if (checked.rejected) {
          const key = checked.rejected.key ?? `line:${checked.rejected.line}`;
          // Rejections are deterministic: one already recorded in this chain is not counted twice. A cell
          // with a subset selects among valid records only, so the source's malformed records are not
          // part of its selection (the dry run reports them).
          if (!onlyKeys && !job.subset && !doneKeys.has(key))
            this.finalizeRejected(key, checked.rejected.line, checked.rejected.reason);
          continue;
        }
        if (!checked.valid) continue; // a duplicate key: the first occurrence is the one sent
        const record = checked.valid;
        if (!subset.includes(record)) continue;
        if (onlyKeys ? !onlyKeys.has(record.key) : doneKeys.has(record.key)) {
          if (!onlyKeys) this.skipped += 1;
          continue;
        }
        const idempotencyKey = this.verifying
          ? ''
          : idempotencyKeyFor(runbook.header.name, keyScope, record.key);
        const prepared = this.strategy.prepare(record, idempotencyKey);
        if (!prepared.ok) {
          this.finalizeRejected(record.key, record.line, prepared.reason);
          continue;
        }
        batch.push(prepared.value);
        if (batch.length < batchSize) continue;
        if (!this.trySend(batch) && !(await this.dispatch(batch))) break;
        batch = [];
      }
      if (batch.length > 0 && !this.dispatchStop.signal.aborted && !this.trySend(batch)) {
        await this.dispatch(batch);
      }
    } catch (error) {
      if (!this.dispatchStop.signal.aborted) throw error;
    } finally {
      await this.drain(job.throttle.timeoutMs);
      await this.flushJournal();
    }
    if (this.internalFailure) throw this.internalFailure;
  }

  /**
   * Sends the units at once when nothing stands in the way — running, a free slot, room in the
   * durability window, rate permits already in hand — without a single await: the common case at high
   * rates. False when they must wait: `dispatch` then sends them.
   */
  private trySend(units: Unit[]): boolean {
    const blocked = this.state !== 'running' || this.internalFailure !== undefined || this.mustWaitForRoom();
    if (blocked || !this.permits.tryTake(units.length)) return false;
    this.send(units);
    return true;
  }

  /**
   * Waits for a concurrency slot, room in the durability window, a rate permit and no pause, then sends;
   * false when the run is stopping.
   */
  private async dispatch(units: Unit[]): Promise<boolean> {
    while (this.state === 'paused' && !this.dispatchStop.signal.aborted) await this.waitForResume();
    while (this.internalFailure === undefined && this.mustWaitForRoom()) {
      if (this.dispatchStop.signal.aborted) return false;
      await this.nextRelease();
    }
    if (this.internalFailure) throw this.internalFailure;
    try {
      await this.permits.take(units.length, this.dispatchStop.signal);
    } catch {
      return false;
    }
    if (this.dispatchStop.signal.aborted) return false;
    this.send(units);
    return true;
  }

  /**
   * Attempts the units. Their slot is freed when the attempt ends; they leave the durability window when
   * their outcome is fsync'd. So a `kill -9` sends again at most `concurrency` units in flight plus the
   * `durabilityWindow` units whose outcome was still on its way to the disk.
   */
  private send(units: Unit[]): void {
    this.attempting += 1;
    this.undurable += 1;
    void this.attempt(units)
      .then(
        () => {
          this.attempting -= 1;
          this.wakeDispatcher();
          return this.journal.flush().catch((error: unknown) => this.onStateWriteFailure(error));
        },
        (error: unknown) => {
          // An attempt throws only on a bug: stop sending and report it once in-flight records end.
          this.attempting -= 1;
          this.internalFailure ??= error instanceof Error ? error : new Error(String(error));
        },
      )
      .then(() => {
        this.undurable -= 1;
        this.wakeDispatcher();
      });
  }

  private mustWaitForRoom(): boolean {
    return (
      this.attempting >= this.concurrency || this.undurable >= this.concurrency + this.durabilityWindow()
    );
  }

  /**
   * How many attempted units may wait for their outcome's fsync while new ones are sent. Without it a
   * slot would be held for an fsync after every response — half of a fast target's throughput; with it
   * unbounded, a kill -9 could repeat any number of records.
   */
  private durabilityWindow(): number {
    return this.concurrency * DURABILITY_WINDOW_PER_SLOT;
  }

  /** Resolves the next time a slot or a durability-window place is freed, or the run stops. */
  private nextRelease(): Promise<void> {
    this.release ??= new Promise((resolve) => {
      this.wake = resolve;
    });
    return this.release;
  }

  private wakeDispatcher(): void {
    const wake = this.wake;
    this.release = undefined;
    this.wake = undefined;
    wake?.();
  }

  private async attempt(units: Unit[]): Promise<void> {
    const { throttle } = this.options.job;
    let pending = units;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      this.inFlight += pending.length;
      let results: Map<string, AttemptResult>;
      try {
        results = await this.strategy.attempt(pending, {
          timeoutMs: throttle.timeoutMs,
          signal: this.hardStop.signal,
        });
      } finally {
        this.inFlight -= pending.length;
      }
      // Aborted at a stop: no outcome, so a resume sends these records again with the same key.
      if (this.hardStop.signal.aborted) return;
      const retry: Unit[] = [];
      let retryAfterMs = 0;
      for (const unit of pending) {
        const result = results.get(unit.record.key)!;
        this.latency.record(result.durationMs);
        if (result.ok) {
          this.rate.onSuccess();
          this.finalize(unit, result.verdict?.status ?? this.strategy.successStatus, attempt, result);
          continue;
        }
        this.errorsByKind[result.kind] = (this.errorsByKind[result.kind] ?? 0) + 1;
        this.sampleError(unit, result);
        if (result.overload) {
          this.rate.onOverload();
          this.limiter.setRate(this.rate.effective());
        }
        if (result.retryable && retryAllowed(result, throttle.retryOn) && attempt <= throttle.retries) {
          retry.push(unit);
          retryAfterMs = Math.max(retryAfterMs, result.retryAfterMs ?? 0);
        } else {
          this.finalize(unit, this.strategy.failureStatus, attempt, result);
        }
      }
      if (retry.length === 0) return;
      const delay = retryDelayMs(attempt, { retryAfterMs, random: Math.random });
      try {
        await this.clock.sleep(delay, this.dispatchStop.signal);
        await this.limiter.acquire(retry.length, this.dispatchStop.signal);
      } catch {
        return; // stopping: the records waiting to be retried have no outcome and will be resumed
      }
      pending = retry;
    }
  }

  private finalize(unit: Unit, status: RecordStatus, attempts: number, result: AttemptResult): void {
    const outcome: RecordOutcome = {
      run: this.runId,
      chain: this.run.chain,
      cell: this.run.cell,
      key: unit.record.key,
      status,
      attempts,
      line: unit.record.line,
      idempotencyKey: unit.idempotencyKey,
      durationMs: result.durationMs,
      ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
      ...this.whatWentWrong(result),
      at: new Date().toISOString(),
    };
    if (!this.record(outcome)) return;
    this.meter.record(1);
    this.counts[status] += 1;
    // A mismatch is a finding, not a failure: only records that could not be attempted spend the budget.
    const halt = this.budget.record(status !== this.strategy.failureStatus);
    if (halt) this.stop(halt);
  }

  /** A failure's message and kind, or what a check found wrong; secrets redacted. */
  private whatWentWrong(result: AttemptResult): Partial<RecordOutcome> {
    if (!result.ok) return { lastError: this.redactor.redact(result.message), errorKind: result.kind };
    const verdict = result.verdict;
    if (!verdict || verdict.status === 'verified') return {};
    return {
      lastError: this.redactor.redact(verdict.detail),
      ...(verdict.expected !== undefined ? { expected: this.storedValue(verdict.expected) } : {}),
      ...(verdict.actual !== undefined ? { actual: this.storedValue(verdict.actual) } : {}),
    };
  }

  /** A value as JSON for the ledger: redacted, and cut short so one odd record cannot bloat it. */
  private storedValue(value: unknown): string {
    let text: string;
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value); // a BigInt or a cycle from a module's verdict
    }
    const redacted = this.redactor.redact(text);
    return redacted.length <= MAX_STORED_VALUE_LENGTH
      ? redacted
      : `${redacted.slice(0, MAX_STORED_VALUE_LENGTH - 1)}…`;
  }

  private finalizeRejected(key: string, line: number, reason: string): void {
    const recorded = this.record({
      run: this.runId,
      chain: this.run.chain,
      cell: this.run.cell,
      key,
      status: 'rejected',
      attempts: 0,
      line,
      lastError: this.redactor.redact(reason),
      errorKind: 'render',
      idempotencyKey: '',
      at: new Date().toISOString(),
    });
    if (recorded) this.counts.rejected += 1;
  }

  /** Checkpoints an outcome; false when the state folder no longer takes writes (the run is halting). */
  private record(outcome: RecordOutcome): boolean {
    if (this.stateWriteFailure) return false;
    try {
      this.journal.append({ type: 'outcome', outcome });
    } catch (error) {
      this.onStateWriteFailure(error);
      return false;
    }
    // Not upserted into the ledger now: the journal is folded into it in one transaction when the run
    // ends (or on the next open after a crash), and nothing reads the ledger's outcomes meanwhile. One
    // sql.js autocommit transaction per outcome cost a fifth of a run's time for nothing.
    this.scheduleFlush();
    return true;
  }

  /**
   * The state folder refused a write (read-only remount, full disk, changed permissions). An outcome
   * that is not durable must not count, so the run halts now, resumable: the records whose outcome was
   * not written are sent again, with the same idempotency key, once the folder is fixed.
   */
  private onStateWriteFailure(error: unknown): void {
    if (this.stateWriteFailure) return;
    this.stateWriteFailure = error instanceof Error ? error : new Error(String(error));
    // The journal's own message goes on to explain resuming, which the halt reason says in its words.
    const why = this.stateWriteFailure.message.replace(/: the run must stop;.*$/s, '');
    this.stop(
      `could not write to the state folder ${this.stateDir}: ${why}; nothing more can be checkpointed: ` +
        'make the folder writable, then run the same command to resume',
    );
  }

  /** Group commit: outcomes finished in the same tick share one write and one fsync. */
  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.flushing = undefined;
      await this.journal.flush().catch((error: unknown) => this.onStateWriteFailure(error));
    });
  }

  private async flushJournal(): Promise<void> {
    await this.flushing;
    await this.journal.flush().catch((error: unknown) => this.onStateWriteFailure(error));
  }

  private sampleError(unit: Unit, result: Extract<AttemptResult, { ok: false }>): void {
    const seen = (this.errorSamples.get(result.kind) ?? 0) + 1;
    this.errorSamples.set(result.kind, seen);
    if (seen > ERROR_SAMPLES_PER_KIND && seen % 1000 !== 0) return;
    this.emit({
      type: 'error',
      at: new Date().toISOString(),
      key: unit.record.key,
      line: unit.record.line,
      kind: result.kind,
      message: this.redactor.redact(result.message),
      ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
    });
  }

  /** Stop dispatching now; give in-flight requests the request timeout to finish, then abort them. */
  stop(reason: string): void {
    if (this.dispatchStop.signal.aborted) return;
    this.haltReason = reason;
    this.state = 'stopping';
    this.dispatchStop.abort();
    this.wakeDispatcher();
    for (const wake of this.resumeWaiters.splice(0)) wake();
    this.emit({ type: 'halt', at: new Date().toISOString(), reason });
  }

  /** Waits until every unit sent has its outcome durable, or was aborted after the grace period. */
  private async drain(graceMs: number): Promise<void> {
    if (this.undurable === 0) return;
    const grace = this.dispatchStop.signal.aborted
      ? setTimeout(() => this.hardStop.abort(), graceMs)
      : undefined;
    const onStop = () => setTimeout(() => this.hardStop.abort(), graceMs);
    this.dispatchStop.signal.addEventListener('abort', onStop, { once: true });
    try {
      while (this.undurable > 0) await this.nextRelease();
    } finally {
      clearTimeout(grace);
      this.dispatchStop.signal.removeEventListener('abort', onStop);
    }
  }

  private waitForResume(): Promise<void> {
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  private pollControl(): void {
    if (fs.existsSync(this.haltFile)) this.stop(`halt file ${this.haltFile} found`);
    const control: ControlState = readControl(this.stateDir);
    if (control.seq === this.controlSeq) return;
    this.controlSeq = control.seq;
    if (control.stop) this.stop('stopped by backfill control');
    if (control.rate !== undefined && control.rate > 0) {
      this.rate.setConfigured(control.rate);
      this.limiter.setRate(this.rate.effective());
    }
    if (control.concurrency !== undefined && control.concurrency > 0) {
      this.concurrency = control.concurrency;
      this.strategy.setConcurrency(control.concurrency);
    }
    if (this.state === 'stopping') return;
    if (control.paused && this.state === 'running') this.state = 'paused';
    if (!control.paused && this.state === 'paused') {
      this.state = 'running';
      this.permits.clear();
      for (const wake of this.resumeWaiters.splice(0)) wake();
    }
    this.tick();
  }

  /** Once a second: recover the adaptive rate, write the status, emit a progress event. */
  private tick(): void {
    this.limiter.setRate(this.rate.effective());
    const status = this.status();
    try {
      writeStatus(this.stateDir, status);
    } catch (error) {
      this.onStateWriteFailure(error);
    }
    this.emit({ type: 'progress', at: status.updatedAt, status });
  }

  /** Outcomes of the whole chain so far: earlier runs and this one. */
  private totals(): StatusCounts {
    const totals = zeroCounts();
    for (const status of RECORD_STATUSES) totals[status] = this.earlier[status] + this.counts[status];
    return totals;
  }

  status(): RunStatus {
    const totals = this.totals();
    const done = sumOf(totals);
    const rateNow = this.meter.rateNow();
    const remaining = this.total !== undefined ? Math.max(0, this.total - done) : undefined;
    return {
      run: this.runId,
      chain: this.run.chain,
      cell: this.run.cell,
      mode: this.run.mode,
      environment: this.run.environment,
      pid: process.pid,
      host: this.run.host,
      state: this.state,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      ...(this.total !== undefined ? { total: this.total } : {}),
      done,
      succeeded: totals.succeeded,
      failed: totals.failed,
      rejected: totals.rejected,
      ...(this.verifying
        ? {
            verification: {
              verified: totals.verified,
              mismatch: totals.mismatch,
              missing: totals.missing,
              error: totals.error,
            },
          }
        : {}),
      skipped: this.skipped,
      inFlight: this.inFlight,
      rate: {
        now: round(rateNow),
        average: round(this.meter.average()),
        configured: this.rate.configured(),
        effective: round(this.rate.effective()),
      },
      concurrency: this.concurrency,
      latencyMs: {
        p50: this.latency.quantile(0.5),
        p95: this.latency.quantile(0.95),
        p99: this.latency.quantile(0.99),
      },
      errorsByKind: { ...this.errorsByKind },
      ...(remaining !== undefined && rateNow > 0 ? { etaSeconds: Math.round(remaining / rateNow) } : {}),
      ...(this.haltReason ? { reason: this.haltReason } : {}),
    };
  }

  private async finish(): Promise<RunResult> {
    if (this.stateWriteFailure) return this.finishUnrecorded();
    const halted = this.dispatchStop.signal.aborted;
    const status = this.status();
    const totals = this.totals();
    const share = this.successShare(totals);
    const outcome: RunOutcome = halted
      ? 'halted'
      : share >= this.options.job.successThreshold
        ? 'succeeded'
        : 'below-threshold';
    const reason = halted
      ? this.haltReason
      : outcome === 'below-threshold'
        ? this.belowThresholdReason(totals, share)
        : undefined;
    const endedAt = new Date().toISOString();
    const counts = JSON.stringify({
      ...this.runCounts(),
      skipped: this.skipped,
      done: status.done,
      total: status.total ?? null,
    });
    this.ledger.finishRun(this.runId, outcome, reason, counts, endedAt);
    try {
      this.journal.append({
        type: 'run-end',
        id: this.runId,
        outcome,
        ...(reason ? { reason } : {}),
        counts,
        endedAt,
      });
      await this.journal.flush();
      await this.journal.checkpoint(this.ledger);
    } catch (error) {
      this.onStateWriteFailure(error);
      return this.finishUnrecorded();
    }
    this.state = halted ? 'halted' : 'finished';
    const final = { ...this.status(), outcome, ...(reason ? { reason } : {}) };
    writeStatus(this.stateDir, final);
    this.emit({ type: 'finish', at: endedAt, outcome, status: final });
    return {
      outcome,
      ...(reason ? { reason } : {}),
      status: final,
      exitCode: halted ? 3 : outcome === 'succeeded' ? 0 : 1,
    };
  }

  /** The statuses a run of this kind records. */
  private statuses(): readonly RecordStatus[] {
    return this.verifying ? VERIFY_RUN_STATUSES : EXECUTE_RUN_STATUSES;
  }

  /** This run's own counts (not the chain's), for the ledger's run record. */
  private runCounts(): Partial<StatusCounts> {
    return Object.fromEntries(this.statuses().map((status) => [status, this.counts[status]]));
  }

  /**
   * Share of the chain's records that ended right. A verification leaves rejected records out: they were
   * never sent, and the dry run and the execution already count them.
   */
  private successShare(totals: StatusCounts): number {
    const considered = this.statuses()
      .filter((status) => !(this.verifying && status === 'rejected'))
      .reduce((sum, status) => sum + totals[status], 0);
    return considered === 0 ? 1 : totals[this.strategy.successStatus] / considered;
  }

  private belowThresholdReason(totals: StatusCounts, share: number): string {
    if (this.verifying) {
      const checked = totals.verified + totals.mismatch + totals.missing + totals.error;
      return (
        `${checked - totals.verified} of ${checked} checked records are not verified: ` +
        `${totals.mismatch} mismatch, ${totals.missing} missing, ${totals.error} could not be checked`
      );
    }
    return `${(share * 100).toFixed(2)} % succeeded, below the success threshold of ${this.options.job.successThreshold * 100} %`;
  }

  /**
   * The end of a run whose state folder stopped taking writes: halted, resumable, and nothing more is
   * written there. What was checkpointed before the failure is in the journal; the next run folds it.
   */
  private finishUnrecorded(): RunResult {
    this.state = 'halted';
    const reason = this.haltReason ?? `the state folder ${this.stateDir} could not be written`;
    const final = { ...this.status(), outcome: 'halted' as const, reason };
    this.emit({ type: 'finish', at: new Date().toISOString(), outcome: 'halted', status: final });
    return { outcome: 'halted', reason, status: final, exitCode: 3 };
  }

  /**
   * A count sample decides its records only after seeing all of them: read the source once first.
   * Returns how many records the sample selects.
   */
  private async prepareSubset(subset: SubsetFilter): Promise<number> {
    const { job, runbook } = this.options;
    const validator = new RecordValidator(job.source);
    let candidates = 0;
    for await (const item of openSource(job.source, {
      baseDir: runbook.baseDir,
      sourceLine: job.sourceLine,
      ...this.databaseSourceOptions(),
    })) {
      const checked = validator.check(item);
      if (checked.valid && subset.includes(checked.valid)) candidates += 1;
    }
    return subset.finish(candidates);
  }

  /** What a database source needs: the environment's vars, the run's secrets, where errors point. */
  private databaseSourceOptions() {
    const { job, runbook, environment } = this.options;
    return {
      connection: { env: environment.vars, secrets: this.secrets },
      location: { file: runbook.file, cell: job.job, line: job.sourceLine },
    };
  }

  private emit(event: RunEvent): void {
    this.options.onEvent?.(this.redactor.redactValue(event));
  }
}

const EXECUTE_RUN_STATUSES: readonly RecordStatus[] = ['succeeded', 'failed', 'rejected'];
const VERIFY_RUN_STATUSES: readonly RecordStatus[] = ['verified', 'mismatch', 'missing', 'error', 'rejected'];

/**
 * What idempotency keys derive from besides the runbook and the record key. A gap re-backfill adds the
 * verification that found the gap: a target that de-duplicates by key would otherwise ignore the very
 * request meant to fix the record, while retries and resumes of the same re-backfill share their key.
 */
/**
 * A resume's shortcut past the finished part of the source: the key of a record whose key, exactly as
 * read, is the key of a finished record — skipped without typing and validating it (600,000 such
 * records cost half a second). Only a string exactly as read counts: a key that typing would change
 * ("007" as an integer) takes the full path, whose result is the same, only slower. Not with a subset
 * or a re-run list, which choose records by their typed values.
 */
function finishedByRawKey(
  keyField: string,
  doneKeys: ReadonlySet<string>,
  applies: boolean,
): (item: SourceItem) => string | undefined {
  if (!applies || doneKeys.size === 0) return () => undefined;
  return (item) => {
    if (item.kind !== 'record' || !Object.hasOwn(item.fields, keyField)) return undefined;
    const raw = item.fields[keyField];
    return typeof raw === 'string' && doneKeys.has(raw) ? raw : undefined;
  };
}

function idempotencyScope(fingerprint: JobFingerprint, rerun: RerunSelection | undefined): string {
  return rerun?.verification ? `${fingerprint.combined}:${rerun.verification}` : fingerprint.combined;
}

function retryAllowed(result: Extract<AttemptResult, { ok: false }>, retryOn: readonly string[]): boolean {
  switch (result.kind) {
    case 'http-429':
      return retryOn.includes('429');
    case 'http-5xx':
      return retryOn.includes('5xx');
    case 'timeout':
      return retryOn.includes('timeout');
    case 'connection':
      return retryOn.includes('connection');
    default:
      return true; // commands (exit 75) and handlers decide themselves whether a failure is transient
  }
}

function zeroCounts(): StatusCounts {
  return Object.fromEntries(RECORD_STATUSES.map((status) => [status, 0])) as StatusCounts;
}

function sumOf(counts: StatusCounts): number {
  return RECORD_STATUSES.reduce((sum, status) => sum + counts[status], 0);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
