/**
 * The outcome recorder: writes what a run did where a crash cannot lose it — the run's start and end in
 * the ledger and the journal, and every record's outcome in the fsync'd journal, group-committed
 * (outcomes finished in the same tick share one write; writes made during an fsync share the next) and
 * folded into the ledger every few seconds, when the run ends (or on the next open after a crash). A
 * state folder that refuses a write halts the run, resumable. With the resume plan's loader, the only
 * part of a run that touches the ledger. This file cannot depend on the vscode API.
 */
import * as os from 'node:os';
import type { ResolvedEnvironment } from '../job/environment';
import type { Result } from '../format/schemas';
import type { ResolvedJob } from '../job/job';
import type { Ledger, OutcomeRecorder as Journal } from '../ledger/ledger';
import { openLedgerForRun } from '../ledger/openLedger';
import { EMBEDDED_LEDGER, type LedgerPlace } from '../ledger/ledgerPlace';
import { stateDirFor } from '../ledger/statePaths';
import { markCrashedRuns } from '../ledger/lock';
import { resultOfRun } from './cellResult';
import type { Redactor } from '../secrets/secrets';
import type { PreparedUnit } from '../attempts/attemptStrategy';
import type { Thresholds } from './thresholds';
import type {
  AttemptResult,
  RecordOutcome,
  RecordStatus,
  RunMode,
  RunOutcome,
  RunRecord,
} from '../model/runs';

/** What a new run record says besides what the options of the run say. */
export interface NewRunRecord {
  id: string;
  chain: string;
  job: Pick<ResolvedJob, 'cell' | 'job' | 'throttle' | 'subset' | 'errorBudget'>;
  mode: RunMode;
  environment: Pick<ResolvedEnvironment, 'name' | 'vars'>;
  operator: string;
  startedAt: string;
  fingerprint: string;
  restart?: boolean;
  onlyFailed?: boolean;
  onlyUnverified?: boolean;
  /** For a gap re-backfill: the verification run that found the gaps. */
  verification?: string;
  /** Records other execute cells delivered were sent again. */
  resendDelivered?: boolean;
  /** What the run is judged by, so a later change of them is noticed. */
  thresholds?: Thresholds;
  /** The run judges its finished chain again with changed thresholds, sending nothing. */
  rejudge?: boolean;
  redactor: Redactor;
}

/** A run as the ledger records it when it starts: `running`, its parameters with secrets redacted. */
export function newRunRecord(input: NewRunRecord): RunRecord {
  const { job, environment } = input;
  return {
    id: input.id,
    chain: input.chain,
    cell: job.cell,
    job: job.job,
    mode: input.mode,
    environment: environment.name,
    operator: input.operator,
    host: os.hostname(),
    pid: process.pid,
    startedAt: input.startedAt,
    fingerprint: input.fingerprint,
    params: JSON.stringify(
      input.redactor.redactValue({
        throttle: job.throttle,
        subset: job.subset ?? null,
        errorBudget: job.errorBudget,
        restart: !!input.restart,
        onlyFailed: !!input.onlyFailed,
        onlyUnverified: !!input.onlyUnverified,
        ...(input.verification ? { verification: input.verification } : {}),
        ...(input.resendDelivered ? { resendDelivered: true } : {}),
        ...input.thresholds,
        ...(input.rejudge ? { rejudge: true } : {}),
        vars: environment.vars,
      }),
    ),
    outcome: 'running',
  };
}

/** Longest expected or actual value a mismatch stores: enough to see what is wrong, never a whole document. */
const MAX_STORED_VALUE_LENGTH = 2000;

/**
 * How often a run folds its journal into the ledger: every 5 seconds or 65,536 outcomes, whichever comes
 * first. The journal then holds a few seconds of outcomes (at most about 20 MB), and a crash leaves
 * little to replay; a fold costs about the same whatever it holds (it saves the segment being filled),
 * so folding more often only costs more.
 */
const FOLD_EVERY_MS = 5000;
const FOLD_EVERY_OUTCOMES = 65_536;

/** When the journal is folded, and how far it may fall behind; tests make them small. */
export interface FoldLimits {
  /** Outcomes after which a fold is due (it is due every 5 s too). */
  foldEveryOutcomes: number;
  /**
   * Outcomes the journal may hold unfolded (the file being folded and the current one) before the run
   * waits for the fold under way: a fold that falls behind (a busy machine, the worker's start) slows
   * the run down instead of letting the journal grow. Twice a fold's worth: about 42 MB of lines.
   */
  mostUnfolded: number;
}

const FOLD_LIMITS: FoldLimits = {
  foldEveryOutcomes: FOLD_EVERY_OUTCOMES,
  mostUnfolded: 2 * FOLD_EVERY_OUTCOMES,
};

export class OutcomeRecorder {
  private run!: RunRecord;
  private redactor!: Redactor;
  private halt: (reason: string) => void = () => undefined;
  private flushing: Promise<void> | undefined;
  /** Set once the state folder refused a write: nothing more can be checkpointed, so the run halts. */
  private failure: Error | undefined;
  /** A fold of the journal into the ledger under way, and what decides when the next is due. */
  private folding: Promise<void> | undefined;
  /** Outcomes in the journal's current file, and in the file the fold under way folds. */
  private outcomesSinceFold = 0;
  private outcomesFolding = 0;
  /** The journal's flush `durable` last waited for, and what it returned for it. */
  private lastFlush: Promise<void> | undefined;
  private lastDurable: Promise<void> | undefined;
  private lastFoldAt = Date.now();
  /** The time outcomes are stamped with. */
  private readonly clock = new IsoClock();

  private constructor(
    /** The runbook's ledger, for the resume plan's loader; nothing else of a run reads it. */
    readonly ledger: Ledger,
    private readonly journal: Journal,
    /** Where outcomes are written and what to do when that fails, for the halt reason. */
    private readonly writesTo: { where: string; fix: string },
    private readonly limits: FoldLimits = FOLD_LIMITS,
  ) {}

  /** A recorder over a ledger and journal already open (a test's, to hold a fold back). */
  static over(ledger: Ledger, journal: Journal, limits: FoldLimits): OutcomeRecorder {
    return new OutcomeRecorder(ledger, journal, { where: 'the journal', fix: 'make it writable' }, limits);
  }

  /**
   * Opens the runbook's ledger for the run `runId` (folding what a crashed run left in the journal) and
   * marks the runs that were left `running` as crashed. Call it while holding the run lock.
   */
  static async open(
    runbookFile: string,
    runId: string,
    place: LedgerPlace = EMBEDDED_LEDGER,
    /** False for a worker joining a live run: it holds no run lock, so it judges no other run crashed. */
    markCrashed = true,
  ): Promise<OutcomeRecorder> {
    const { ledger, journal } = await openLedgerForRun(runbookFile, place);
    try {
      if (markCrashed) await markCrashedRuns(ledger, runId);
    } catch (error) {
      await journal.close();
      await ledger.close();
      throw error;
    }
    const writesTo =
      place.type === 'embedded'
        ? { where: `the state folder ${stateDirFor(runbookFile)}`, fix: 'make the folder writable' }
        : { where: `the ledger ${ledger.location}`, fix: 'make the database reachable and writable' };
    return new OutcomeRecorder(ledger, journal, writesTo);
  }

  /**
   * Records the run's start, durably, and from then on records its outcomes. `halt` is called once if
   * the state folder refuses a write.
   */
  async start(run: RunRecord, redactor: Redactor, halt: (reason: string) => void): Promise<void> {
    this.run = run;
    this.redactor = redactor;
    this.halt = halt;
    await this.ledger.startRun(run);
    this.journal.append({ type: 'run-start', run });
    await this.journal.flush();
  }

  /** Records outcomes of `run`, started by another process (a worker joining a shared run); writes nothing now. */
  join(run: RunRecord, redactor: Redactor, halt: (reason: string) => void): void {
    this.run = run;
    this.redactor = redactor;
    this.halt = halt;
  }

  /** How many outcomes per concurrency slot may wait to be durable (the ledger's recorder decides). */
  get durabilityWindowPerSlot(): number {
    return this.journal.durabilityWindowPerSlot;
  }

  /** The state folder refused a write: no outcome is recorded from now on. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Checkpoints a unit's outcome; false when the state folder no longer takes writes (the run is halting). */
  recordAttempt(unit: PreparedUnit, status: RecordStatus, attempts: number, result: AttemptResult): boolean {
    const run = this.run;
    // Optional fields set only when present, in the order they always had, `at` last: no object
    // spread per record (each made and dropped one or two objects, a million times a run).
    const outcome: Omit<RecordOutcome, 'at'> & { at?: string } = {
      run: run.id,
      chain: run.chain,
      cell: run.cell,
      key: unit.record.key,
      status,
      attempts,
      line: unit.record.line,
      idempotencyKey: unit.idempotencyKey,
      durationMs: result.durationMs,
    };
    if (result.httpStatus !== undefined) outcome.httpStatus = result.httpStatus;
    if (result.rowsAffected !== undefined) outcome.rowsAffected = result.rowsAffected;
    if (!result.ok || (result.verdict && result.verdict.status !== 'verified')) {
      Object.assign(outcome, this.whatWentWrong(result));
    }
    outcome.at = this.clock.now();
    return this.record(outcome as RecordOutcome);
  }

  /** Checkpoints a record refused before any attempt (malformed, or its action could not be rendered). */
  recordRejected(key: string, line: number, reason: string): boolean {
    const run = this.run;
    return this.record({
      run: run.id,
      chain: run.chain,
      cell: run.cell,
      key,
      status: 'rejected',
      attempts: 0,
      line,
      lastError: this.redactor.redact(reason),
      errorKind: 'render',
      idempotencyKey: '',
      at: this.clock.now(),
    });
  }

  /** Resolves once the outcomes recorded so far are durable, or the state folder refused them. */
  durable(): Promise<void> {
    if (this.folding && this.outcomesFolding + this.outcomesSinceFold >= this.limits.mostUnfolded) {
      return this.folding.then(() => this.durable());
    }
    // Every record asks once its attempt ends: outcomes still buffered wait for the group commit due
    // for them, rather than each writing on its own.
    return this.flushing ?? this.flushNow();
  }

  /** Writes what is buffered now; resolves once it is durable, or the state folder refused it. */
  private flushNow(): Promise<void> {
    const flush = this.journal.flush();
    // The records of one group commit share its flush, and so one promise here instead of two more each.
    if (flush !== this.lastFlush || !this.lastDurable) {
      this.lastFlush = flush;
      this.lastDurable = flush.then(() => this.foldWhenDue()).catch((error: unknown) => this.fail(error));
    }
    return this.lastDurable;
  }

  /**
   * Folds the journal into the ledger every few seconds while the run goes on, so the journal never
   * holds more than that and every reader sees the ledger nearly up to date. In the background: the
   * recorder's appends go on meanwhile and join the journal after the fold.
   */
  private foldWhenDue(): void {
    if (this.folding || this.failure) return;
    const due =
      this.outcomesSinceFold >= this.limits.foldEveryOutcomes ||
      Date.now() - this.lastFoldAt >= FOLD_EVERY_MS;
    if (!due) return;
    this.outcomesFolding = this.outcomesSinceFold;
    this.outcomesSinceFold = 0;
    this.lastFoldAt = Date.now();
    this.folding = this.journal
      .checkpoint()
      .then(
        () => undefined,
        (error: unknown) => this.fail(error),
      )
      .finally(() => {
        this.outcomesFolding = 0;
        this.folding = undefined;
      });
  }

  /** Writes every outcome recorded so far: the group commit under way, then what is left. */
  async flush(): Promise<void> {
    await this.flushing;
    await this.durable();
  }

  /**
   * Records the run's end and folds the journal into the ledger; false when the state folder refused
   * it (the run is then halted, and the next run folds what the journal holds).
   */
  async finish(
    outcome: RunOutcome,
    reason: string | undefined,
    counts: string,
    endedAt: string,
  ): Promise<boolean> {
    await this.folding;
    await this.ledger.finishRun(this.run.id, outcome, reason, counts, endedAt);
    try {
      this.journal.append({
        type: 'run-end',
        id: this.run.id,
        outcome,
        ...(reason ? { reason } : {}),
        counts,
        endedAt,
      });
      await this.journal.flush();
      await this.journal.checkpoint();
    } catch (error) {
      this.fail(error);
      return false;
    }
    return true;
  }

  /**
   * The cell's result block for run `runId` as the ledger has it, once the run is recorded as ended: a
   * run whose state folder stopped taking writes is still `running` in the ledger and has none.
   */
  async resultBlock(cell: string, runId: string): Promise<Result | undefined> {
    const run = (await this.ledger.runs(cell)).find((r) => r.id === runId);
    return run && run.outcome !== 'running' ? await resultOfRun(this.ledger, run) : undefined;
  }

  /** Writes what is buffered and closes the journal and the ledger. */
  async close(): Promise<void> {
    await this.folding;
    await this.journal.close();
    await this.ledger.close();
  }

  /**
   * The state folder refused a write (read-only remount, full disk, changed permissions). An outcome
   * that is not durable must not count, so the run halts now, resumable: the records whose outcome was
   * not written are sent again, with the same idempotency key, once the folder is fixed.
   */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    // The journal's own message goes on to explain resuming, which the halt reason says in its words.
    const why = this.failure.message.replace(/: the run must stop;.*$/s, '');
    this.halt(
      `could not write to ${this.writesTo.where}: ${why}; nothing more can be checkpointed: ` +
        `${this.writesTo.fix}, then run the same command to resume`,
    );
  }

  private record(outcome: RecordOutcome): boolean {
    if (this.failure) return false;
    try {
      this.journal.append({ type: 'outcome', outcome });
    } catch (error) {
      this.fail(error);
      return false;
    }
    // Not upserted into the ledger now: the journal is folded into it every few seconds (and when the
    // run ends, or on the next open after a crash). One sql.js transaction per outcome cost a fifth of a
    // run's time for nothing.
    this.outcomesSinceFold += 1;
    this.scheduleFlush();
    return true;
  }

  /** Group commit: outcomes finished in the same tick share one write, written once the tick ends. */
  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.flushing = undefined;
      return this.flushNow();
    });
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
}

/**
 * The time as ISO 8601 text, made once per millisecond: tens of outcomes finish in the same millisecond,
 * and each made a Date and formatted it (the same text).
 */
export class IsoClock {
  private at = 0;
  private text = '';

  now(): string {
    const now = Date.now();
    if (now !== this.at) {
      this.at = now;
      this.text = new Date(now).toISOString();
    }
    return this.text;
  }
}
