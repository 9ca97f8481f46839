/**
 * One run, wired from its parts (see runner.ts for the list): the strategy, the resume plan, the record
 * feed, the dispatcher, the recorder, live status and control, and the verdict at the end.
 */
import { envArgument } from '../job/environment';
import type { JobFingerprint } from '../job/fingerprint';
import { Redactor, SecretResolver } from '../secrets/secrets';
import type { SubsetFilter } from '../sources/subsetFilter';
import { UserError, type SourceItem } from '../model/types';
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
import { forwardLocalControl, joinLiveFleet, memberEnd } from './liveFleet';
import type { FleetMember } from '../fleet/fleetMember';
import { ledgerPlaceOf } from '../ledger/ledgerPlace';
import { LiveCounters } from './liveStatus';
import { startMetricsServer, type MetricsServer } from './metricsServer';
import type { OutcomeRecorder } from './outcomeRecorder';
import { newRunRecord } from './outcomeRecorder';
import { resendsDelivered } from './deliveredElsewhere';
import { FailureTally, type FailedRecord } from './failureReasons';
import { keyMemoryFor, type KeyMemory } from './keyMemory';
import type { FeedSeek } from './feedSeek';
import { countValidRecords, feedRecords, openFeedSource, readAhead, type ReadAhead } from './recordFeed';
import { plannedRecords, plannedSelection, plannedTotal } from './planCounts';
import { describeRunPlan, type ResumePlan } from './resumePlan';
import { planRun } from './runPlanning';
import type { Rejudge, RunEvent, RunResult } from './runEvents';
import type { RunOptions } from './runOptions';
import { cellThresholds, type Thresholds } from './thresholds';
import { writeStatus, type RunState, type RunStatus } from './runStatus';
import { emptySelectionReason, SelectionAccounting } from './selectionAccounting';
import { sumOf } from './statusCounts';
import { SourcePin } from '../sources/sourcePin';
import type { AttemptResult, RecordStatus, RunRecord } from '../model/runs';
import { decideVerdict, endOfRunCounts, unrecordedVerdict, type RunKind, type Verdict } from './verdict';
import { openSource } from '../sources/openSource';
import type { ChunkLeases } from '../fleet/chunkLeases';
import type { ChunkWork } from '../fleet/chunkWork';
import { PostgresLedger } from '../ledger/postgresLedger';
import { sharedRunEnd, type SharedRunEnd } from './sharedRunEnd';
import { connectChunkWork, startSharedRun, verdictRecordedElsewhere } from './sharedRunWork';
import * as fs from 'node:fs';

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
  private chunks: { leases: ChunkLeases; work: ChunkWork } | undefined;
  /** The whole fleet's counts, read from the ledger by the worker that finished the last chunk. */
  private fleetEnd: SharedRunEnd | undefined;
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
    this.strategy = await this.createStrategy();
    try {
      return await this.executeWith();
    } finally {
      if (this.chunks) {
        await this.chunks.work.leave();
        await this.chunks.leases.close();
      }
      await this.strategy.close();
    }
  }

  /**
   * Valid records of the source for the plan line: a dry run's count of the same data, else counted now
   * when that is cheap (recordFeed.ts countValidRecords), else unknown. Not for a re-run of chosen records
   * or a re-judgement, which say their own counts.
   */
  private async sourceCount(plan: ResumePlan): Promise<number | undefined> {
    if (plan.ofSource !== undefined || plan.rerun || plan.chain.rejudge) return plan.ofSource;
    const { job, runbook } = this.options;
    const valid = sumOf(plan.earlier) - plan.earlier.rejected;
    return countValidRecords(job, runbook.baseDir, this.sourceOptions(), this.keys, undefined, valid);
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
      ...(job.checkLine !== undefined ? { checkLine: job.checkLine } : {}),
    });
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
        if (shareable) await this.createChunks();
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
      if (!joined) await this.recordEndOfFailure(error);
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
    if (read.sharing) await this.startChunkWork(plan);

    const announced = describeRunPlan({
      run: this.runId,
      kind: this.kind,
      target: this.strategy.target,
      fingerprint: fingerprint.combined,
      throttle: job.throttle,
      plan,
      total: this.total,
      records: plannedRecords({ plan, subset: job.subset, ofSource: await this.sourceCount(plan), sampled }),
    });
    this.options.onPlan?.(announced);
    this.emit({ type: 'start', at: new Date().toISOString(), plan: announced });
    // Judged again with changed thresholds: the verdict comes from the ledger, nothing is sent.
    if (plan.chain.rejudge) {
      if (plan.chain.judgedFailures) this.failures.carry(plan.chain.judgedFailures);
      return this.finish(plan.chain.rejudge);
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
      if (this.chunks) return await this.finishShare();
    } finally {
      endControl();
      clearInterval(ticker);
      await this.fleet?.leave(memberEnd(fed, this.dispatcher.stopping));
    }
    return this.finish();
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
      waiting: this.chunks !== undefined,
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

  /** A shared run's creator: records the run's start and cuts its source into chunks (sharedRunWork.ts). */
  private async createChunks(): Promise<void> {
    const shared = this.options.shared;
    const ledger = this.recorder.ledger;
    if (!shared || !(ledger instanceof PostgresLedger)) return;
    const { job, runbook } = this.options;
    await startSharedRun(ledger, shared, this.record, job.source, (seek) =>
      openSource(job.source, {
        baseDir: runbook.baseDir,
        sourceLine: job.sourceLine,
        ...this.sourceOptions(),
        ...(seek ? { seek } : {}),
      }),
    );
  }

  /** Connects this worker to the run's chunks: from now on the feed reads only the chunks it claims. */
  private async startChunkWork(plan: ResumePlan): Promise<void> {
    this.chunks = await connectChunkWork(this.options.shared!, {
      record: this.record,
      plan,
      source: this.options.job.source,
      flush: async () => {
        await this.recorder.flush();
        if (this.recorder.failed) throw new Error('the outcomes of the chunk were not committed');
      },
      stop: (reason) => this.dispatcher.stop(reason),
      stopped: this.dispatcher.stopSignal,
      onChunk: (n) => this.fleet?.setChunk(n),
      onWaiting: (waiting) => this.fleet?.setWaiting(waiting),
      ledger: this.recorder.ledger,
    });
  }

  /**
   * The end of this worker's share. Stopped: its chunks go back for the others (or a resume), and the
   * run is recorded as halted unless this worker only left (a signal, its host's halt file) or the run
   * already ended elsewhere. Out of chunks: the worker that marked the last one done judges the whole run from the
   * ledger and records its end; the others wait for that record and report it.
   */
  private async finishShare(): Promise<RunResult> {
    const { leases, work } = this.chunks!;
    await work.settled();
    // Records fed but never given an outcome keep their chunks from being done: the run halts saying so
    // (and is resumed), rather than waiting for an end no worker will record.
    const missing = work.unaccounted();
    if (missing.records > 0) {
      const { file } = this.options.runbook;
      const chunks = missing.chunks.length === 1 ? 'its chunk' : 'their chunks';
      this.dispatcher.stop(
        `unaccounted records: ${missing.records} of the records this worker read have no outcome ` +
          `(${chunks} ${missing.chunks.join(', ')} cannot be marked done) — this is a bug, please report it. ` +
          `The run halted instead of finishing: run backfill run ${file} --cell ${this.record.cell} again to send them`,
      );
    }
    await work.leave();
    if (this.recorder.failed) return this.finishUnrecorded();
    const ended = work.endedElsewhere;
    // Every chunk done and judged by the worker that finished the last one: nothing was cut short here.
    const judgedElsewhere = ended === 'succeeded' || ended === 'below-threshold';
    if (this.dispatcher.stopping && !judgedElsewhere) {
      // A signal or this host's halt file stops this worker only: the others go on with its chunks, and
      // the last one to stop halts the run.
      const thisHostOnly = this.options.signal?.aborted || fs.existsSync(this.haltFile);
      const left = thisHostOnly && (await work.othersAtWork());
      if (ended === undefined && !left) return this.finish();
      const reason = this.dispatcher.stopReason ?? 'this worker was stopped';
      return this.ended({ outcome: 'halted', reason }, 'halted', new Date().toISOString(), true);
    }
    if (work.finishedLastChunk) {
      this.fleetEnd = await sharedRunEnd(this.recorder.ledger, this.record);
      return this.finish();
    }
    const verdict = await verdictRecordedElsewhere(
      leases,
      this.recorder.ledger,
      this.record,
      this.options.runbook.file,
    );
    const state = verdict.outcome === 'halted' ? 'halted' : 'finished';
    return this.ended(verdict, state, new Date().toISOString(), true);
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

  /**
   * Records the end of a run that failed after its start: halted, resumable, with the reason, and the
   * final status written. Does nothing when the ledger no longer takes writes (its failure is the reason).
   */
  private async recordEndOfFailure(error: unknown): Promise<void> {
    if (this.recorder.failed) return;
    const why = this.redactor.redact(error instanceof Error ? error.message : String(error));
    const reason = `the run stopped: ${why}; fix that, then run the same command to resume`;
    const endedAt = new Date().toISOString();
    const status = this.status('halted');
    const counts = endOfRunCounts(this.kind, this.counters.own(), status, this.failures.firstFailed());
    try {
      if (await this.recorder.finish('halted', reason, counts, endedAt)) {
        writeStatus(this.stateDir, { ...status, outcome: 'halted', reason });
      }
    } catch {
      // The error that stopped the run is the one to report; its end is then marked crashed as before.
    }
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
          strategy: this.chunks ? this.chunks.work.counting(this.strategy) : this.strategy,
          accounting: this.accounting,
          ...(this.chunks ? { readThrough: (open) => this.chunks!.work.items(open) } : {}),
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
    this.chunks?.work.recorded(unit.record.line);
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

  private async finish(rejudged?: Rejudge): Promise<RunResult> {
    if (this.recorder.failed) return this.finishUnrecorded();
    const halted = this.dispatcher.stopping;
    const status = this.status();
    // A re-send of chosen records is judged on its own records: one failure in three is no success,
    // however well the rest of the chain went.
    const fleet = this.fleetEnd;
    const totals = fleet?.totals ?? (this.rerun ? this.counters.own() : this.counters.totals());
    // A worker reads only its chunks: the books it could balance are its own, not the run's.
    const unaccounted =
      halted || rejudged || this.chunks
        ? undefined
        : this.accounting.problem({ outcomes: sumOf(this.counters.own()), skipped: this.counters.skipped });
    const empty = emptySelectionReason(sumOf(totals), fleet?.skipped ?? this.counters.skipped);
    const verdict = decideVerdict({
      kind: this.kind,
      halted,
      haltReason: this.dispatcher.stopReason,
      totals,
      ...this.thresholds,
      listRejected: this.ledgerCommand('rejected'),
      ...(unaccounted ? { unaccounted } : {}),
      ...(empty ? { empty } : {}),
    });
    const endedAt = new Date().toISOString();
    const counts = endOfRunCounts(
      this.kind,
      fleet?.own ?? this.counters.own(),
      fleet ? { ...status, skipped: fleet.skipped, done: sumOf(fleet.totals) } : status,
      this.failures.firstFailed(),
    );
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

  /** `backfill ledger orders.backfill --cell full --status rejected`, `--env` named when not the default. */
  private ledgerCommand(status: string): string {
    const { runbook, environment } = this.options;
    const env = envArgument(runbook.header, environment.name);
    return `backfill ledger ${runbook.file} --cell ${this.record.cell}${env} --status ${status}`;
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
