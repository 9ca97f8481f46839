/**
 * One run, wired from its parts (see runner.ts for the list): the strategy, the resume plan, the record
 * feed, the dispatcher, the recorder, live status and control, and the verdict at the end.
 */
import { fingerprintJob, type JobFingerprint } from '../job/fingerprint';
import { Redactor, SecretResolver } from '../secrets/secrets';
import { createSubsetFilter, type SubsetFilter } from '../sources/subsetFilter';
import { UserError } from '../model/types';
import { createVerificationStrategy } from '../verify/verificationStrategy';
import {
  createExecutionStrategy,
  type AttemptStrategy,
  type PreparedUnit,
} from '../attempts/attemptStrategy';
import { realClock, type Clock } from './clock';
import { Dispatcher } from './dispatcher';
import { ErrorBudget } from './errorBudget';
import { LiveControl } from './liveControl';
import { LiveCounters } from './liveStatus';
import { startMetricsServer, type MetricsServer } from './metricsServer';
import type { OutcomeRecorder } from './outcomeRecorder';
import { newRunRecord } from './outcomeRecorder';
import { resendsDelivered } from './deliveredElsewhere';
import { FailureTally, type FailedRecord } from './failureReasons';
import { keyMemoryFor, type KeyMemory } from './keyMemory';
import { feedRecords, prepareSubset } from './recordFeed';
import { plannedRecords, plannedTotal } from './planCounts';
import { describeRunPlan, type ResumePlan } from './resumePlan';
import { loadResumePlan } from './resumePlanLoader';
import type { Rejudge, RunEvent, RunResult } from './runEvents';
import type { RunOptions } from './runOptions';
import { cellThresholds, type Thresholds } from './thresholds';
import { writeStatus, type RunState, type RunStatus } from './runStatus';
import { emptySelectionReason, SelectionAccounting } from './selectionAccounting';
import { sumOf } from './statusCounts';
import { sourceContentHash } from '../sources/sourceKinds';
import { SourcePin } from '../sources/sourcePin';
import { pinDryRunCheckpoints, withSourceChange } from './sourceChangeSinceDryRun';
import type { AttemptResult, RecordStatus, RunRecord } from '../model/runs';
import { decideVerdict, endOfRunCounts, unrecordedVerdict, type RunKind, type Verdict } from './verdict';

/** One run, from its strategy to its verdict: wires the parts and holds what they share. */
export class Run {
  private readonly clock: Clock;
  private readonly secrets: SecretResolver;
  private readonly redactor: Redactor;
  private readonly kind: RunKind;
  private strategy!: AttemptStrategy;
  private record!: RunRecord;
  private total: number | undefined;
  /** The run re-sends (re-checks) chosen records only: it is judged on them alone. */
  private rerun = false;
  private readonly counters: LiveCounters;
  private readonly accounting = new SelectionAccounting();
  private readonly failures = new FailureTally();
  private dispatcher!: Dispatcher<PreparedUnit>;
  private budget!: ErrorBudget;
  /** What the check before the run read of a database source, so the sending pass reads the same rows. */
  private readonly pin = new SourcePin();

  constructor(
    private readonly options: RunOptions,
    private readonly recorder: OutcomeRecorder,
    private readonly stateDir: string,
    private readonly haltFile: string,
    private readonly runId: string,
    private readonly startedAt: string,
  ) {
    this.clock = options.clock ?? realClock;
    this.secrets = new SecretResolver(options.secretValues);
    this.redactor = new Redactor(this.secrets);
    this.counters = new LiveCounters(this.clock);
    // A verification reads each record's end state; it sends no action and needs no idempotency key.
    this.kind = options.mode === 'verify' ? 'verify' : 'execute';
  }

  async execute(): Promise<RunResult> {
    this.strategy = await this.createStrategy();
    try {
      return await this.executeWith();
    } finally {
      await this.strategy.close();
    }
  }

  /** What a database source needs: the environment's vars, the run's secrets, where its errors point. */
  private sourceOptions() {
    const { job, runbook, environment } = this.options;
    return {
      connection: { env: environment.vars, secrets: this.secrets },
      location: { file: runbook.file, cell: job.job, line: job.sourceLine },
      pin: this.pin,
    };
  }

  /** The attempt strategy: the cell's check for a verification, the job's action otherwise. */
  private createStrategy(): Promise<AttemptStrategy> {
    const { job, runbook, environment } = this.options;
    const options = {
      baseDir: runbook.baseDir,
      environment,
      context: { env: environment.vars, secrets: this.secrets },
      runbookFile: runbook.file,
      checkCommand: `backfill check ${runbook.file}`,
    };
    if (this.kind === 'execute') return createExecutionStrategy(job, options);
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

    await pinDryRunCheckpoints(this.pin, this.recorder.ledger, job.cell, job, environment);
    const contentHash = await sourceContentHash(job.source, {
      baseDir: runbook.baseDir,
      sourceLine: job.sourceLine,
      ...this.sourceOptions(),
    });
    const fingerprint = fingerprintJob(job, environment, contentHash);
    const loaded = await loadResumePlan(this.recorder.ledger, {
      request: {
        cell: job.cell,
        runbookFile: runbook.file,
        kind: this.kind,
        restart: !!this.options.restart,
        onlyFailed: !!this.options.onlyFailed,
        onlyUnverified: !!this.options.onlyUnverified,
        failureStatus: this.strategy.failureStatus,
        resendDelivered: this.resendDelivered(),
        thresholds: this.thresholds,
      },
      runbook,
      job: job.job,
      fingerprint,
      hasSubset: !!job.subset,
      ...(this.options.gate ? { gate: this.options.gate } : {}),
      ...(this.keys.keysInMemory !== undefined ? { keysInMemory: this.keys.keysInMemory } : {}),
    });
    if ('refused' in loaded)
      return { outcome: 'refused', reason: withSourceChange(loaded.refused, this.pin) };
    const plan = loaded.plan;
    const subset = createSubsetFilter(job.subset, { baseDir: runbook.baseDir });
    const sampled =
      job.subset?.sample?.count !== undefined
        ? await prepareSubset(job, runbook.baseDir, subset, this.sourceOptions(), this.keys)
        : undefined;
    this.total = plannedTotal(plan, sampled, !!job.subset);
    this.rerun = !!plan.rerun;
    this.counters.setEarlier(plan.earlier);
    this.dispatcher = this.createDispatcher();
    this.budget = new ErrorBudget(job.errorBudget);
    this.record = newRunRecord({
      ...this.options,
      id: this.runId,
      chain: plan.chain.id,
      startedAt: this.startedAt,
      fingerprint: fingerprint.combined,
      ...(plan.rerun?.verification ? { verification: plan.rerun.verification } : {}),
      resendDelivered: this.resendDelivered(),
      thresholds: this.thresholds,
      ...(plan.chain.rejudge ? { rejudge: true } : {}),
      redactor: this.redactor,
    });
    await this.recorder.start(this.record, this.redactor, (reason) => this.dispatcher.stop(reason));

    const announced = describeRunPlan({
      run: this.runId,
      kind: this.kind,
      target: this.strategy.target,
      fingerprint: fingerprint.combined,
      throttle: job.throttle,
      plan,
      total: this.total,
      records: plannedRecords({ plan, subset: job.subset, ofSource: plan.ofSource, sampled }),
    });
    this.options.onPlan?.(announced);
    this.emit({ type: 'start', at: new Date().toISOString(), plan: announced });
    // Judged again with changed thresholds: the verdict comes from the ledger, nothing is sent.
    if (plan.chain.rejudge) return this.finish(plan.chain.rejudge);

    const control = new LiveControl(this.stateDir, this.haltFile, this.dispatcher, () => this.tick());
    const endControl = control.start(this.options.signal);
    const ticker = setInterval(() => this.tick(), 1000);
    let metrics: MetricsServer | undefined;
    try {
      if (this.options.metricsPort !== undefined) {
        metrics = await startMetricsServer(this.options.metricsPort, () => this.status());
      }
      this.tick();
      await this.feed(plan, fingerprint, subset);
    } finally {
      endControl();
      clearInterval(ticker);
      await metrics?.close();
    }
    return this.finish();
  }

  /** What the run is judged by: the cell's `successThreshold` and `maxRejected` as they are now. */
  private get thresholds(): Thresholds {
    return cellThresholds(this.options.runbook, this.options.job.cell, this.options.job.successThreshold);
  }

  /** What bounds the memory the run holds per key, and where a big source's repeated keys are kept. */
  private get keys(): KeyMemory {
    return keyMemoryFor(this.stateDir);
  }

  /** `--resend-delivered`, or the cell's `resend: delivered`. */
  private resendDelivered(): boolean {
    return resendsDelivered(this.options.runbook, this.options.job.cell, this.options.resendDelivered);
  }

  private createDispatcher(): Dispatcher<PreparedUnit> {
    return new Dispatcher({
      strategy: this.strategy,
      throttle: this.options.job.throttle,
      clock: this.clock,
      hooks: {
        onAttempt: (unit, result) => this.onAttempt(unit, result),
        onOutcome: (unit, status, attempts, result) => this.onOutcome(unit, status, attempts, result),
        durable: () => this.recorder.durable(),
        onStop: (reason) => this.emit({ type: 'halt', at: new Date().toISOString(), reason }),
      },
    });
  }

  /** Feeds the records to the dispatcher, then waits until every outcome is durable. */
  private async feed(plan: ResumePlan, fingerprint: JobFingerprint, subset: SubsetFilter) {
    const { job, runbook } = this.options;
    try {
      await feedRecords(
        {
          job,
          baseDir: runbook.baseDir,
          sourceOptions: this.sourceOptions(),
          runbookName: runbook.header.name,
          kind: this.kind,
          fingerprint: fingerprint.combined,
          plan,
          subset,
          strategy: this.strategy,
          accounting: this.accounting,
          ...(this.options.testDropRecord ? { dropRecord: this.options.testDropRecord } : {}),
          keys: this.keys,
        },
        this.dispatcher,
        {
          skipped: (by) => this.counters.countSkipped(by),
          rejected: (key, line, reason) => {
            if (this.recorder.recordRejected(key, line, reason)) this.counters.countRejected();
          },
        },
      );
    } finally {
      await this.dispatcher.drain(job.throttle.timeoutMs);
      await this.recorder.flush();
    }
    this.dispatcher.throwIfFailed();
  }

  private onAttempt(unit: PreparedUnit, result: AttemptResult): void {
    if (!this.counters.countAttempt(result) || result.ok) return;
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

  private onOutcome(unit: PreparedUnit, status: RecordStatus, attempts: number, result: AttemptResult): void {
    if (!this.recorder.recordAttempt(unit, status, attempts, result)) return;
    this.counters.countOutcome(status);
    if (status === this.strategy.failureStatus && !result.ok) {
      this.failures.record(unit.record.key, this.redactor.redact(result.message));
    }
    // A mismatch is a finding, not a failure: only records that could not be attempted spend the budget.
    const halt = this.budget.record(status !== this.strategy.failureStatus);
    if (halt) this.dispatcher.stop(halt);
  }

  /** Once a second and after a control command: recover the adaptive rate, write the status, emit it. */
  private tick(): void {
    this.dispatcher.refreshRate();
    const status = this.status();
    try {
      writeStatus(this.stateDir, status);
    } catch (error) {
      this.recorder.fail(error);
    }
    this.emit({ type: 'progress', at: status.updatedAt, status });
  }

  private status(state: RunState = this.dispatcher.state): RunStatus {
    const status = this.counters.status(this.record, this.dispatcher, {
      kind: this.kind,
      total: this.total,
      state,
    });
    const failures = this.failures.top();
    return failures.length > 0 ? { ...status, failures } : status;
  }

  private async finish(rejudged?: Rejudge): Promise<RunResult> {
    if (this.recorder.failed) return this.finishUnrecorded();
    const halted = this.dispatcher.stopping;
    const status = this.status();
    // A re-send of chosen records is judged on its own records: one failure in three is no success,
    // however well the rest of the chain went.
    const totals = this.rerun ? this.counters.own() : this.counters.totals();
    const unaccounted =
      halted || rejudged
        ? undefined
        : this.accounting.problem({ outcomes: sumOf(this.counters.own()), skipped: this.counters.skipped });
    const empty = emptySelectionReason(sumOf(totals), this.counters.skipped);
    const verdict = decideVerdict({
      kind: this.kind,
      halted,
      haltReason: this.dispatcher.stopReason,
      totals,
      ...this.thresholds,
      ...(unaccounted ? { unaccounted } : {}),
      ...(empty ? { empty } : {}),
    });
    const endedAt = new Date().toISOString();
    const counts = endOfRunCounts(this.kind, this.counters.own(), status, this.failures.firstFailed());
    if (!(await this.recorder.finish(verdict.outcome, verdict.reason, counts, endedAt))) {
      return this.finishUnrecorded();
    }
    const result = this.ended(verdict, verdict.outcome === 'halted' ? 'halted' : 'finished', endedAt, true);
    if (rejudged) return { ...result, rejudged };
    return empty && verdict.outcome !== 'halted' ? { ...result, empty: true } : result;
  }

  /**
   * The end of a run whose state folder stopped taking writes: halted, resumable, and nothing more is
   * written there. What was checkpointed before the failure is in the journal; the next run folds it.
   */
  private finishUnrecorded(): RunResult {
    const verdict = unrecordedVerdict(this.stateDir, this.dispatcher.stopReason);
    return this.ended(verdict, 'halted', new Date().toISOString(), false);
  }

  /** The final status (written when the state folder takes it), the finish event, the result. */
  private ended(verdict: Verdict, state: RunState, at: string, writable: boolean): RunResult {
    const { outcome, reason } = verdict;
    const final = { ...this.status(state), outcome, ...(reason ? { reason } : {}) };
    if (writable) writeStatus(this.stateDir, final);
    this.emit({ type: 'finish', at, outcome, status: final, ...this.firstFailed() });
    return { outcome, ...(reason ? { reason } : {}), status: final, ...this.firstFailed() };
  }

  /** The first records this run saw fail, with their reasons; nothing when none failed. */
  private firstFailed(): { firstFailed?: FailedRecord[] } {
    const first = this.failures.firstFailed();
    return first.length > 0 ? { firstFailed: first } : {};
  }

  private emit(event: RunEvent): void {
    this.options.onEvent?.(this.redactor.redactValue(event));
  }
}
