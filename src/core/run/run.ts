/**
 * One run, wired from its parts (see runner.ts for the list): the strategy, the resume plan, the record
 * feed, the dispatcher, the recorder, live status and control, and the verdict at the end (runEnd.ts).
 * A worker of a run shared through a PostgreSQL ledger drives its share through workerShare.ts.
 */
import type { JobFingerprint } from '../job/fingerprint';
import { Redactor, SecretResolver } from '../secrets/secrets';
import type { SubsetFilter } from '../sources/subsetFilter';
import { UserError, type SourceItem } from '../model/types';
import type { AttemptStrategy, PreparedUnit } from '../attempts/attemptStrategy';
import { realClock, type Clock } from './clock';
import { Dispatcher } from './dispatcher';
import { ErrorBudget } from './errorBudget';
import { LiveControl } from './liveControl';
import { forwardLocalControl, joinLiveFleet, memberEnd } from './liveFleet';
import type { FleetMember } from '../fleet/fleetMember';
import { ledgerPlaceOf } from '../ledger/ledgerPlace';
import { LiveCounters } from './liveStatus';
import { startMetricsServer, type MetricsServer } from './metricsServer';
import type { OutcomeRecorder } from './outcomeRecorder';
import { newRunRecord } from './outcomeRecorder';
import { resendsDelivered } from './deliveredElsewhere';
import { FailureTally } from './failureReasons';
import { keyMemoryFor, type KeyMemory } from './keyMemory';
import type { FeedSeek } from './feedSeek';
import { feedRecords, openFeedSource, readAhead, type ReadAhead } from './recordFeed';
import { plannedRecords, plannedSelection, plannedTotal } from './planCounts';
import { describeRunPlan, type ResumePlan } from './resumePlan';
import { planRun } from './runPlanning';
import type { RunEvent, RunResult } from './runEvents';
import type { RunOptions } from './runOptions';
import { cellThresholds, type Thresholds } from './thresholds';
import { writeStatus, type RunState, type RunStatus } from './runStatus';
import { SelectionAccounting } from './selectionAccounting';
import { sumOf } from './statusCounts';
import { SourcePin } from '../sources/sourcePin';
import type { AttemptResult, RecordStatus, RunRecord } from '../model/runs';
import type { RunKind } from './verdict';
import { PostgresLedger } from '../ledger/postgresLedger';
import { RunEnd } from './runEnd';
import { createRunStrategy, runSourceOptions, sourceCount, type RunSourceOptions } from './runSetup';
import { createChunks, WorkerShare, type SharingRun } from './workerShare';

/** One run, from its strategy to its verdict: wires the parts and holds what they share. */
export class Run {
  private readonly clock: Clock;
  private readonly secrets: SecretResolver;
  private readonly redactor: Redactor;
  private readonly kind: RunKind;
  private strategy!: AttemptStrategy;
  private record!: RunRecord;
  private total: number | undefined;
  /** How the feed reads a seekable file source: from where, noting marks (feedSeek.ts). */
  private seek: FeedSeek | undefined;
  /** Records the cell selects to send, as the confirmation counts them (planCounts.ts). */
  private selected: number | undefined;
  /** The run re-sends (re-checks) chosen records only: it is judged on them alone. */
  private rerun = false;
  private readonly counters: LiveCounters;
  private readonly accounting = new SelectionAccounting();
  private readonly failures = new FailureTally();
  private dispatcher!: Dispatcher<PreparedUnit>;
  private budget!: ErrorBudget;
  /** What the check before the run read of a database source, so the sending pass reads the same rows. */
  private readonly pin = new SourcePin();
  /** This process as a member of the run's fleet, when the ledger is in PostgreSQL. */
  private fleet: FleetMember | undefined;
  /** This worker's share of a run shared through a PostgreSQL ledger (options.shared). */
  private share: WorkerShare | undefined;
  /** A halt asked before the dispatcher existed. */
  private haltAsked: string | undefined;

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

  /**
   * Halts the run from outside (its run lock was lost): nothing more is sent, and the run ends halted,
   * resumable. Asked before dispatching starts, the run halts as soon as it does.
   */
  halt(reason: string): void {
    if (this.dispatcher) this.dispatcher.stop(reason);
    else this.haltAsked ??= reason;
  }

  async execute(): Promise<RunResult> {
    this.strategy = await createRunStrategy(this.options, this.kind, this.secrets);
    try {
      return await this.executeWith();
    } finally {
      await this.share?.close();
      await this.strategy.close();
    }
  }

  /** What a database source needs: the environment's vars, the run's secrets, where its errors point. */
  private sourceOptions(): RunSourceOptions {
    return runSourceOptions(this.options, this.secrets, this.pin);
  }

  private async executeWith(): Promise<RunResult> {
    const { job } = this.options;
    const missing = this.secrets.resolveAll(this.strategy.secretNames);
    if (missing.length > 0) throw new UserError(missing.join('; '));

    const planned = await planRun({
      options: this.options,
      ledger: this.recorder.ledger,
      kind: this.kind,
      failureStatus: this.strategy.failureStatus,
      pin: this.pin,
      stateDir: this.stateDir,
      sourceOptions: this.sourceOptions(),
      keys: this.keys,
      resendDelivered: this.resendDelivered(),
      thresholds: this.thresholds,
    });
    if ('refused' in planned) return { outcome: 'refused', reason: planned.refused };
    const { fingerprint, plan, subset, sampled, shareable } = planned;
    const joined = this.options.shared?.join;
    this.seek = planned.seek;
    this.total = plannedTotal(plan, sampled, !!job.subset);
    this.selected = plannedSelection({ plan, subset: job.subset, ofSource: plan.ofSource, sampled });
    this.rerun = !!plan.rerun;
    this.counters.setEarlier(plan.earlier);
    this.dispatcher = this.createDispatcher();
    if (this.haltAsked !== undefined) this.dispatcher.stop(this.haltAsked);
    this.budget = new ErrorBudget(job.errorBudget);
    this.record =
      joined ??
      newRunRecord({
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
    const halt = (reason: string) => this.dispatcher.stop(reason);
    const sharing = shareable && !!this.options.shared;
    // A metrics port that is taken or an address this host lacks, and a source refused at its first item
    // (a CSV's header, say), are refused before the run is recorded: they leave no run behind, however
    // long reading up to it took.
    // A worker reads chunks instead; a re-judgement sends and reads nothing.
    const metrics = plan.chain.rejudge ? undefined : await this.startMetrics();
    let items: ReadAhead<SourceItem> | undefined;
    const close = async () => {
      await items?.close();
      await metrics?.close();
    };
    try {
      if (!sharing && !plan.chain.rejudge) items = await readAhead(this.openFeedSource());
      if (joined) this.recorder.join(this.record, this.redactor, halt);
      else {
        if (shareable) await createChunks(this.sharingRun(), this.sourceOptions());
        await this.recorder.start(this.record, this.redactor, halt);
      }
    } catch (error) {
      await close();
      throw error;
    }
    try {
      return await this.afterStart(plan, { fingerprint, subset, sampled, sharing, items });
    } catch (error) {
      // A run that cannot go on (a source command that failed half-way, an internal error) ends on record
      // with the reason, instead of staying 'running' until a later run calls it crashed.
      if (!joined) await this.end().afterFailure(error);
      throw error;
    } finally {
      await close();
    }
  }

  /** Serves the run's metrics on `--metrics-port` (and `--metrics-host`), when asked. */
  private async startMetrics(): Promise<MetricsServer | undefined> {
    if (this.options.metrics === undefined) return undefined;
    return startMetricsServer(
      this.options.metrics,
      () => this.status(),
      () => this.counters.latencyHistogram.snapshot(),
    );
  }

  /** Everything after the run's start is recorded: announce the plan, then send (or re-judge) and judge. */
  private async afterStart(
    plan: ResumePlan,
    read: {
      fingerprint: JobFingerprint;
      subset: SubsetFilter;
      sampled: number | undefined;
      sharing: boolean;
      items: ReadAhead<SourceItem> | undefined;
    },
  ): Promise<RunResult> {
    const { job } = this.options;
    const { fingerprint, subset, sampled } = read;
    if (read.sharing) this.share = await WorkerShare.connect(this.sharingRun(), plan);

    const announced = describeRunPlan({
      run: this.runId,
      kind: this.kind,
      target: this.strategy.target,
      fingerprint: fingerprint.combined,
      throttle: job.throttle,
      plan,
      total: this.total,
      records: plannedRecords({
        plan,
        subset: job.subset,
        ofSource: await sourceCount(this.options, plan, this.sourceOptions(), this.keys),
        sampled,
      }),
    });
    this.options.onPlan?.(announced);
    this.emit({ type: 'start', at: new Date().toISOString(), plan: announced });
    // Judged again with changed thresholds: the verdict comes from the ledger, nothing is sent.
    if (plan.chain.rejudge) {
      if (plan.chain.judgedFailures) this.failures.carry(plan.chain.judgedFailures);
      return this.end().finish(plan.chain.rejudge);
    }

    this.fleet = await this.joinFleet();
    const forward = this.fleet && forwardLocalControl(this.fleet);
    const control = new LiveControl(
      this.stateDir,
      this.haltFile,
      this.dispatcher,
      () => this.tick(),
      forward,
    );
    const endControl = control.start(this.options.signal);
    const ticker = setInterval(() => this.tick(), 1000);
    let fed = false;
    try {
      this.tick();
      await this.feed(plan, fingerprint, subset, read.items);
      fed = true;
      if (this.share) return await this.endShare(this.share);
    } finally {
      endControl();
      clearInterval(ticker);
      await this.fleet?.leave(memberEnd(fed, this.dispatcher.stopping));
    }
    return this.end().finish();
  }

  /**
   * With the ledger in PostgreSQL, the run is a member of a fleet: one rate, one kill switch and one
   * status with every worker that joins it. The process that created the run starts the fleet's controls
   * clean; a worker joining it keeps them.
   */
  private async joinFleet(): Promise<FleetMember | undefined> {
    const { runbook, environment, job } = this.options;
    const place = ledgerPlaceOf(runbook.header, environment, this.secrets);
    if (place.type !== 'postgres') return undefined;
    return joinLiveFleet({
      place,
      run: this.runId,
      // A worker joins a run under way: the fleet's controls stay as they are.
      fresh: !this.options.shared?.join,
      waiting: this.share !== undefined,
      dispatcher: this.dispatcher,
      throttle: job.throttle,
      figures: () => ({ rate: this.status().rate.now, sent: this.sent() }),
      onApplied: () => this.tick(),
    });
  }

  /** Records this process attempted to an outcome (a rejected record was never sent). */
  private sent(): number {
    const own = this.counters.own();
    return sumOf(own) - own.rejected;
  }

  /** What this worker's share of a shared run needs of the run (workerShare.ts). */
  private sharingRun(): SharingRun {
    return {
      options: this.options,
      record: this.record,
      recorder: this.recorder,
      dispatcher: this.dispatcher,
      haltFile: this.haltFile,
      fleet: () => this.fleet,
    };
  }

  /** The end of this worker's share: the run is judged here, or ends as the share found it ended. */
  private async endShare(share: WorkerShare): Promise<RunResult> {
    const shareEnd = await share.end();
    if (shareEnd.type === 'unrecorded') return this.end().unrecorded();
    if (shareEnd.type === 'judge') return this.end().finish();
    return this.end().ended(shareEnd.verdict, shareEnd.state, new Date().toISOString(), true);
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
      durabilityWindowPerSlot: this.recorder.durabilityWindowPerSlot,
      hooks: {
        onAttempt: (unit, result) => this.onAttempt(unit, result),
        onOutcome: (unit, status, attempts, result) => this.onOutcome(unit, status, attempts, result),
        durable: () => this.recorder.durable(),
        onStop: (reason) => this.emit({ type: 'halt', at: new Date().toISOString(), reason }),
        onOverload: () => this.fleet?.reportOverload(),
      },
    });
  }

  /** The source as the pass that sends records reads it (recordFeed.ts). */
  private openFeedSource(): AsyncIterable<SourceItem> {
    const { job, runbook } = this.options;
    const seek = this.seek ? { seek: this.seek } : {};
    return openFeedSource({ job, baseDir: runbook.baseDir, sourceOptions: this.sourceOptions(), ...seek });
  }

  /** Feeds the records to the dispatcher, then waits until every outcome is durable. */
  private async feed(
    plan: ResumePlan,
    fingerprint: JobFingerprint,
    subset: SubsetFilter,
    items: AsyncIterable<SourceItem> | undefined,
  ) {
    const { job, runbook } = this.options;
    try {
      await feedRecords(
        {
          job,
          baseDir: runbook.baseDir,
          sourceOptions: this.sourceOptions(),
          ...(items ? { items } : {}),
          runbookName: runbook.header.name,
          kind: this.kind,
          fingerprint: fingerprint.combined,
          plan,
          subset,
          strategy: this.share ? this.share.work.counting(this.strategy) : this.strategy,
          accounting: this.accounting,
          ...(this.share ? { readThrough: (open) => this.share!.work.items(open) } : {}),
          ...(this.options.testDropRecord ? { dropRecord: this.options.testDropRecord } : {}),
          keys: this.keys,
          ...(this.seek ? { seek: this.seek } : {}),
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
    this.share?.work.recorded(unit.record.line);
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
      selected: this.selected,
      state,
    });
    const failures = this.failures.top();
    const waiting = this.waiting();
    return {
      ...status,
      ...(this.options.environment.production ? { production: true } : {}),
      ...(failures.length > 0 ? { failures } : {}),
      ...(waiting ? { waiting } : {}),
    };
  }

  /** Why nothing more is sent now, when the run is held back: its ledger's database went away. */
  private waiting(): string | undefined {
    const ledger = this.recorder.ledger;
    const since = ledger instanceof PostgresLedger ? ledger.unreachableSince : undefined;
    if (since === undefined || this.recorder.failed) return undefined;
    const seconds = Math.round((Date.now() - since) / 1000);
    return `for the ledger: reconnecting (unreachable for ${seconds} s)`;
  }

  /**
   * The run's end (runEnd.ts), given what the run holds now: read when it ends, after the share and the
   * dispatcher settled.
   */
  private end(): RunEnd {
    return new RunEnd({
      kind: this.kind,
      options: this.options,
      stateDir: this.stateDir,
      record: this.record,
      recorder: this.recorder,
      dispatcher: this.dispatcher,
      counters: this.counters,
      failures: this.failures,
      accounting: this.accounting,
      redactor: this.redactor,
      thresholds: this.thresholds,
      rerun: this.rerun,
      worker: this.share !== undefined,
      fleetEnd: this.share?.fleetEnd,
      status: (state) => this.status(state),
      emit: (event) => this.emit(event),
    });
  }

  private emit(event: RunEvent): void {
    this.options.onEvent?.(this.redactor.redactValue(event));
  }
}
