/**
 * The runner: sends an execute cell's records to the target, throttled (rate limit that never bursts,
 * concurrency cap, adaptive slowing on 429/503), with retries, an error budget, live control and a
 * checkpoint of every record's outcome in an fsync'd journal — so a crash or a stop at any instant loses
 * nothing and a re-run resumes exactly: finished records are skipped, records that were in flight are
 * sent again with the same idempotency key.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import pLimit from 'p-limit';
import { compileAction, type ActionPreview, type RenderContext } from '../actions/preview';
import { idempotencyKeyFor } from '../dryRun';
import type { ResolvedEnvironment } from '../environment';
import { fingerprintJob, type JobFingerprint } from '../fingerprint';
import type { Runbook } from '../format/runbook';
import type { ResolvedJob } from '../job';
import { openLedgerForRun, type Journal } from '../ledger/journal';
import { assertStateDirUsable, stateDirFor, type Ledger } from '../ledger/ledger';
import { acquireRunLock, markCrashedRuns } from '../ledger/lock';
import { Redactor, SecretResolver } from '../secrets';
import { openSource } from '../sources/openSource';
import { RecordValidator } from '../sources/recordValidator';
import { createSubsetFilter } from '../sources/subsetFilter';
import { RefusedError, UserError, type ValidRecord } from '../types';
import { AdaptiveRate } from './adaptiveRate';
import { retryDelayMs } from './backoff';
import { realClock, type Clock } from './clock';
import { haltFileFor, readControl, resetControl, type ControlState } from './control';
import { ErrorBudget } from './errorBudget';
import { createExecutor, type Executor } from './executors';
import type { GateDecision } from './gate';
import { LatencyStats, RateMeter } from './latencyStats';
import { startMetricsServer, type MetricsServer } from './metricsServer';
import { RateLimiter } from './rateLimiter';
import { writeStatus, type RunState, type RunStatus } from './runStatus';
import { sourceContentHash } from './sourceHash';
import type { AttemptResult, ErrorKind, RecordOutcome, RunOutcome, RunRecord } from './types';

export interface RunOptions {
  runbook: Runbook;
  job: ResolvedJob;
  environment: ResolvedEnvironment;
  mode: 'execute' | 'production';
  secretValues: Record<string, string | undefined>;
  operator: string;
  /** Start a new run chain instead of resuming or refusing. */
  restart?: boolean;
  /** Re-run exactly the records that failed in the latest chain. */
  onlyFailed?: boolean;
  /** Gates that need the fingerprint and the ledger (production); checked after the lock is taken. */
  gate?: (fingerprint: JobFingerprint, ledger: Ledger) => GateDecision;
  /** Called once the plan is known, before the first record is sent. */
  onPlan?: (plan: RunPlan) => void;
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
  target: string;
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

interface Unit {
  record: ValidRecord;
  preview: ActionPreview;
  idempotencyKey: string;
}

const CONTROL_POLL_MS = 200;
const ERROR_SAMPLES_PER_KIND = 20;

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
      return await run.execute();
    } finally {
      await journal.close();
      ledger.close();
    }
  } finally {
    releaseLock(lock);
  }
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
  private readonly counts = { succeeded: 0, failed: 0, rejected: 0, skipped: 0 };
  private readonly earlier = { succeeded: 0, failed: 0, rejected: 0 };
  private inFlight = 0;
  private state: RunState = 'running';
  private haltReason: string | undefined;
  /** Aborted on stop: ends waits for a rate permit, a backoff or a resume at once. */
  private readonly dispatchStop = new AbortController();
  /** Aborted when the grace period after a stop ends: aborts requests still in flight. */
  private readonly hardStop = new AbortController();
  private controlSeq = 0;
  private stoppedPromise: Promise<void> | undefined;
  private resumeWaiters: (() => void)[] = [];
  private run!: RunRecord;
  private total: number | undefined;
  private rate!: AdaptiveRate;
  private limiter!: RateLimiter;
  private limit!: ReturnType<typeof pLimit>;
  private budget!: ErrorBudget;
  private flushing: Promise<void> | undefined;
  /** Set once the state folder refused a write: nothing more can be checkpointed, so the run halts. */
  private stateWriteFailure: Error | undefined;
  private errorSamples = new Map<ErrorKind, number>();
  private executor: Executor | undefined;

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
  }

  async execute(): Promise<RunResult> {
    const { job, runbook, environment } = this.options;
    const action = compileAction(job.action, { baseDir: runbook.baseDir });
    if (action.issues.length > 0) {
      throw new UserError(`the action of job ${job.job} is invalid: run backfill check ${runbook.file}`);
    }
    const missing = this.secrets.resolveAll(action.references.secretNames);
    if (missing.length > 0) throw new UserError(missing.join('; '));

    const contentHash = await sourceContentHash(job.source, {
      baseDir: runbook.baseDir,
      sourceLine: job.sourceLine,
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
    const doneKeys = this.ledger.keysWithStatus(chain.id, ['succeeded', 'failed', 'rejected']);
    const onlyKeys = this.options.onlyFailed ? this.ledger.keysWithStatus(chain.id, ['failed']) : undefined;
    if (onlyKeys && onlyKeys.size === 0) {
      throw new UserError(`no failed records in the latest run of cell ${job.cell}: nothing to re-run`);
    }
    // Counts of earlier runs of the chain, so progress and the success threshold cover the whole chain.
    // With --only failed the failed records are being re-run, so they start uncounted.
    const byStatus = this.ledger.countByStatus(chain.id);
    this.earlier.succeeded = byStatus.succeeded ?? 0;
    this.earlier.failed = onlyKeys ? 0 : (byStatus.failed ?? 0);
    this.earlier.rejected = byStatus.rejected ?? 0;
    this.total = onlyKeys
      ? this.earlier.succeeded + this.earlier.rejected + onlyKeys.size
      : this.expectedTotal(fingerprint);

    this.rate = new AdaptiveRate(job.throttle.rate, this.clock);
    this.limiter = new RateLimiter(job.throttle.rate, this.clock);
    this.limit = pLimit(job.throttle.concurrency);
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
          vars: environment.vars,
        }),
      ),
      outcome: 'running',
    };
    this.ledger.startRun(this.run);
    this.journal.append({ type: 'run-start', run: this.run });
    await this.journal.flush();

    const plan: RunPlan = {
      run: this.runId,
      chain: chain.id,
      resumed: chain.resumed,
      target: describeTarget(job, environment),
      ...(this.total !== undefined ? { total: this.total } : {}),
      alreadyDone: this.options.onlyFailed ? 0 : doneKeys.size,
      rate: job.throttle.rate,
      concurrency: job.throttle.concurrency,
      ...(this.total !== undefined
        ? {
            estimatedSeconds:
              Math.max(0, this.total - (this.options.onlyFailed ? 0 : doneKeys.size)) / job.throttle.rate,
          }
        : {}),
      fingerprint: fingerprint.combined,
    };
    this.options.onPlan?.(plan);
    this.emit({ type: 'start', at: new Date().toISOString(), plan });

    resetControl(this.stateDir);
    const stopOnSignal = () => this.stop('stopped by signal');
    this.options.signal?.addEventListener('abort', stopOnSignal);
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
      await this.dispatchAll(action, fingerprint, doneKeys, onlyKeys);
    } finally {
      for (const timer of timers) clearInterval(timer);
      this.options.signal?.removeEventListener('abort', stopOnSignal);
      await metrics?.close();
    }
    return this.finish();
  }

  /** Resume the latest chain of this cell when it did not finish; refuse what would be ambiguous. */
  private chooseChain(fingerprint: JobFingerprint): { id: string; resumed: boolean } {
    const cell = this.options.job.cell;
    const latest = this.ledger.latestRun(cell);
    if (this.options.restart || !latest) return { id: randomUUID(), resumed: false };
    const sameJob = latest.fingerprint === fingerprint.combined;
    const unfinished =
      latest.outcome === 'halted' || latest.outcome === 'crashed' || latest.outcome === 'running';
    if (!sameJob) {
      if (unfinished || this.options.onlyFailed) {
        throw new UserError(
          `the job or its source data changed since run ${latest.id} of cell ${cell} (${latest.outcome}): ` +
            'dry-run it again, then start over with --restart',
        );
      }
      return { id: randomUUID(), resumed: false };
    }
    if (unfinished || this.options.onlyFailed) return { id: latest.chain, resumed: true };
    throw new UserError(
      `cell ${cell} already finished in run ${latest.id} (${latest.outcome}): ` +
        're-run its failed records with --only failed, or everything with --restart',
    );
  }

  private expectedTotal(fingerprint: JobFingerprint): number | undefined {
    const dryRun = this.ledger.passingDryRun(fingerprint.combined) ?? undefined;
    if (!dryRun) return undefined;
    try {
      // The fingerprint covers source, action, subset and environment: the same selection of records.
      const report = JSON.parse(dryRun.report) as { counts?: { selected?: number } };
      return report.counts?.selected;
    } catch {
      return undefined;
    }
  }

  private async dispatchAll(
    action: ReturnType<typeof compileAction>,
    fingerprint: JobFingerprint,
    doneKeys: Set<string>,
    onlyKeys: Set<string> | undefined,
  ): Promise<void> {
    const { job, runbook, environment } = this.options;
    const stream = openSource(job.source, { baseDir: runbook.baseDir, sourceLine: job.sourceLine });
    const validator = new RecordValidator(job.source);
    const subset = createSubsetFilter(job.subset, { baseDir: runbook.baseDir });
    if (job.subset?.sample?.count !== undefined) await this.prepareSubset(subset);
    const context: RenderContext = { env: environment.vars, secrets: this.secrets };
    const executor = await createExecutor(job.action, {
      baseDir: runbook.baseDir,
      concurrency: job.throttle.concurrency,
      context,
    });
    this.executor = executor;
    const batchSize =
      job.action.type === 'command' && job.action.mode === 'batch' ? job.throttle.batchSize : 1;
    let batch: Unit[] = [];
    const running = new Set<Promise<void>>();
    try {
      for await (const item of stream) {
        if (this.dispatchStop.signal.aborted) break;
        const checked = validator.check(item);
        if (checked.rejected) {
          const key = checked.rejected.key ?? `line:${checked.rejected.line}`;
          // Rejections are deterministic: one already recorded in this chain is not counted twice.
          if (!onlyKeys && !doneKeys.has(key))
            this.finalizeRejected(key, checked.rejected.line, checked.rejected.reason);
          continue;
        }
        if (!checked.valid) continue; // a duplicate key: the first occurrence is the one sent
        const record = checked.valid;
        if (!subset.includes(record)) continue;
        if (onlyKeys ? !onlyKeys.has(record.key) : doneKeys.has(record.key)) {
          if (!onlyKeys) this.counts.skipped += 1;
          continue;
        }
        const idempotencyKey = idempotencyKeyFor(runbook.header.name, fingerprint.combined, record.key);
        const rendered = action.render(record, { ...context, idempotencyKey });
        if (!rendered.ok) {
          this.finalizeRejected(record.key, record.line, rendered.reason);
          continue;
        }
        batch.push({ record, preview: rendered.preview, idempotencyKey });
        if (batch.length < batchSize) continue;
        if (!(await this.dispatch(batch, executor, running))) break;
        batch = [];
      }
      if (batch.length > 0 && !this.dispatchStop.signal.aborted)
        await this.dispatch(batch, executor, running);
    } catch (error) {
      if (!this.dispatchStop.signal.aborted) throw error;
    } finally {
      await this.drain(running, job.throttle.timeoutMs);
      await executor.close();
      await this.flushJournal();
    }
  }

  /** Waits for a concurrency slot, a rate permit and no pause; false when the run is stopping. */
  private async dispatch(units: Unit[], executor: Executor, running: Set<Promise<void>>): Promise<boolean> {
    while (this.state === 'paused' && !this.dispatchStop.signal.aborted) await this.waitForResume();
    while (this.limit.activeCount + this.limit.pendingCount >= this.limit.concurrency) {
      if (this.dispatchStop.signal.aborted) return false;
      await Promise.race([...running, this.stopped()]);
    }
    try {
      await this.limiter.acquire(units.length, this.dispatchStop.signal);
    } catch {
      return false;
    }
    if (this.dispatchStop.signal.aborted) return false;
    const task = this.limit(() => this.process(units, executor));
    running.add(task);
    void task.finally(() => running.delete(task));
    return true;
  }

  /**
   * Sends a unit until it succeeds, fails for good, or the run stops. The concurrency slot is held
   * until the outcomes are fsync'd, so at any instant at most `concurrency` records are sent-but-not-
   * checkpointed: exactly the records a kill -9 can make run again.
   */
  private async process(units: Unit[], executor: Executor): Promise<void> {
    await this.attempt(units, executor);
    await this.journal.flush().catch((error: unknown) => this.onStateWriteFailure(error));
  }

  private async attempt(units: Unit[], executor: Executor): Promise<void> {
    const { throttle } = this.options.job;
    let pending = units;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      this.inFlight += pending.length;
      let results: Map<string, AttemptResult>;
      try {
        results = await executor.executeUnits(
          pending.map((u) => ({
            key: u.record.key,
            fields: u.record.fields,
            preview: u.preview,
            line: u.record.line,
            idempotencyKey: u.idempotencyKey,
          })),
          { timeoutMs: throttle.timeoutMs, signal: this.hardStop.signal },
        );
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
          this.finalize(unit, 'succeeded', attempt, result);
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
          this.finalize(unit, 'failed', attempt, result);
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

  private finalize(
    unit: Unit,
    status: 'succeeded' | 'failed',
    attempts: number,
    result: AttemptResult,
  ): void {
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
      ...(!result.ok ? { lastError: this.redactor.redact(result.message), errorKind: result.kind } : {}),
      at: new Date().toISOString(),
    };
    if (!this.record(outcome)) return;
    this.meter.record(1);
    this.counts[status] += 1;
    const halt = this.budget.record(status === 'succeeded');
    if (halt) this.stop(halt);
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
    this.ledger.upsertOutcome(outcome);
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
    for (const wake of this.resumeWaiters.splice(0)) wake();
    this.emit({ type: 'halt', at: new Date().toISOString(), reason });
  }

  /** One promise for the whole run: a listener per wait would pile up on the signal until the stop. */
  private stopped(): Promise<void> {
    this.stoppedPromise ??= new Promise((resolve) => {
      if (this.dispatchStop.signal.aborted) resolve();
      else this.dispatchStop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return this.stoppedPromise;
  }

  private async drain(running: Set<Promise<void>>, graceMs: number): Promise<void> {
    if (running.size === 0) return;
    const grace = this.dispatchStop.signal.aborted
      ? setTimeout(() => this.hardStop.abort(), graceMs)
      : undefined;
    const onStop = () => setTimeout(() => this.hardStop.abort(), graceMs);
    this.dispatchStop.signal.addEventListener('abort', onStop, { once: true });
    try {
      await Promise.allSettled([...running]);
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
      this.limit.concurrency = control.concurrency;
      this.executor?.setConcurrency(control.concurrency);
    }
    if (this.state === 'stopping') return;
    if (control.paused && this.state === 'running') this.state = 'paused';
    if (!control.paused && this.state === 'paused') {
      this.state = 'running';
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

  status(): RunStatus {
    const done =
      this.earlier.succeeded +
      this.earlier.failed +
      this.earlier.rejected +
      this.counts.succeeded +
      this.counts.failed +
      this.counts.rejected;
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
      succeeded: this.earlier.succeeded + this.counts.succeeded,
      failed: this.earlier.failed + this.counts.failed,
      rejected: this.earlier.rejected + this.counts.rejected,
      skipped: this.counts.skipped,
      inFlight: this.inFlight,
      rate: {
        now: round(rateNow),
        average: round(this.meter.average()),
        configured: this.rate.configured(),
        effective: round(this.rate.effective()),
      },
      concurrency: this.limit.concurrency,
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
    const considered = status.succeeded + status.failed + status.rejected;
    const share = considered === 0 ? 1 : status.succeeded / considered;
    const outcome: RunOutcome = halted
      ? 'halted'
      : share >= this.options.job.successThreshold
        ? 'succeeded'
        : 'below-threshold';
    const reason = halted
      ? this.haltReason
      : outcome === 'below-threshold'
        ? `${(share * 100).toFixed(2)} % succeeded, below the success threshold of ${this.options.job.successThreshold * 100} %`
        : undefined;
    const endedAt = new Date().toISOString();
    const counts = JSON.stringify({ ...this.counts, done: status.done, total: status.total ?? null });
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

  /** A count sample decides its records only after seeing all of them: read the source once first. */
  private async prepareSubset(subset: ReturnType<typeof createSubsetFilter>): Promise<void> {
    const { job, runbook } = this.options;
    const validator = new RecordValidator(job.source);
    let candidates = 0;
    for await (const item of openSource(job.source, {
      baseDir: runbook.baseDir,
      sourceLine: job.sourceLine,
    })) {
      const checked = validator.check(item);
      if (checked.valid && subset.includes(checked.valid)) candidates += 1;
    }
    subset.finish(candidates);
  }

  private emit(event: RunEvent): void {
    this.options.onEvent?.(this.redactor.redactValue(event));
  }
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

function describeTarget(job: ResolvedJob, environment: ResolvedEnvironment): string {
  const action = job.action;
  const where = environment.name
    ? ` in ${environment.name}${environment.production ? ' (PRODUCTION)' : ''}`
    : '';
  if (action.type === 'http') return `${action.method} ${withEnv(action.url, environment.vars)}${where}`;
  if (action.type === 'command') return `command ${JSON.stringify(action.argv)}${where}`;
  return `module ${action.path} export ${action.export}${where}`;
}

/** Shows configuration values in a target description; record and secret placeholders stay as written. */
function withEnv(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{env:([^}]+)\}/g, (placeholder, name: string) => vars[name] ?? placeholder);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
