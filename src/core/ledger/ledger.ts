/**
 * The ledger, as the rest of backfill sees it: what happened to a runbook — dry runs (the production
 * gate's evidence), runs, the latest outcome of every record of a run chain, checklist sign-offs — so
 * later runs can be gated on it and resumed from it. This module holds only the contract and its
 * types; the embedded sql.js ledger beside the runbook (sqlJsLedger.ts) is its first implementation, and
 * openLedger.ts is the one place that decides which implementation a runbook uses.
 *
 * Every method is asynchronous because a ledger on a database server answers over the network. Writes
 * are durable once `save()` resolves (an implementation may make them durable sooner); a ledger closed
 * without saving may lose what it was told since the last save. A run does not write its outcomes here
 * one by one: it appends them to its {@link OutcomeRecorder}, which commits them in groups.
 *
 * This folder cannot depend on the vscode API.
 */
import type { ErrorKind, RecordOutcome, RecordStatus, RunOutcome, RunRecord, SignOff } from '../model/runs';
import type { JournalScan, NewJournalEntry } from './journalFile';
import type { SegmentMark, SegmentProgress } from './segmentMarks';

/** One dry run as the ledger keeps it: what the production gate looks for. */
export interface DryRunRow {
  id: string;
  cell: string;
  job: string;
  environment: string;
  operator: string;
  host: string;
  startedAt: string;
  finishedAt: string;
  definitionHash: string;
  contentHash: string;
  fingerprint: string;
  passed: boolean;
  total: number;
  valid: number;
  rejected: number;
  duplicates: number;
  /** The full dry-run report as JSON, secrets already redacted. */
  report: string;
}

/** Which outcomes to read; every given field must match. */
export interface OutcomeFilter {
  cell?: string;
  chain?: string;
  status?: RecordStatus | readonly RecordStatus[];
}

/** Where one of a chain's latest outcomes sits in the source, and its status: what a resume merges with the source. */
export interface OutcomePlace {
  line: number;
  key: string;
  status: RecordStatus;
  /** When it was recorded (ISO 8601). */
  at: string;
}

/** Number of records of a chain in each status (zero when none). */
export type StatusCounts = Record<RecordStatus, number>;

/** How many of a chain's latest outcomes have this status, error kind (if any) and run. */
export interface ChainTally {
  status: RecordStatus;
  errorKind?: ErrorKind;
  run: string;
  count: number;
}

/** The ledger of one runbook. */
export interface Ledger {
  /** Where the ledger is, for messages: a file, or a database with its credentials left out. */
  readonly location: string;

  /** Records a dry run. */
  recordDryRun(row: DryRunRow): Promise<void>;
  /** Dry runs of a cell (or of all cells), newest first. */
  dryRuns(cell?: string): Promise<DryRunRow[]>;
  /** The newest passing dry run with exactly this fingerprint, if any: what the production gate needs. */
  passingDryRun(fingerprint: string): Promise<DryRunRow | undefined>;

  /** Records a run (normally with outcome `running`). Idempotent: starting the same run again rewrites it. */
  startRun(run: RunRecord): Promise<void>;
  /**
   * Records how a run ended; false when the ledger knows no run with this id. Idempotent; the end time
   * defaults to now, and a replayed checkpoint passes the one it recorded.
   */
  finishRun(
    id: string,
    outcome: RunOutcome,
    reason?: string,
    counts?: string,
    endedAt?: string,
  ): Promise<boolean>;
  /** Runs of a cell (or of all cells), newest first. */
  runs(cell?: string): Promise<RunRecord[]>;
  /** The newest run of a cell, if any. */
  latestRun(cell: string): Promise<RunRecord | undefined>;
  /** Runs still marked `running`, oldest first: after a crash, the ones nobody finished. */
  runningRuns(): Promise<RunRecord[]>;
  /** Time of the last outcome a run recorded, if it recorded any: the best guess at when it died. */
  lastOutcomeAt(run: string): Promise<string | undefined>;

  /**
   * Makes each outcome the latest of its key in its chain, in order (a later outcome of a key replaces
   * an earlier one); resolves with how many. For batches: a run's hot path goes through its recorder.
   */
  recordOutcomes(outcomes: Iterable<RecordOutcome>): Promise<number>;
  /**
   * The latest outcomes matching the filter, chain by chain, each in source-line order. Streamed: rows
   * are read as the iteration advances, so a ledger of any size is never held whole. Finish (or break
   * out of) the iteration before saving or closing the ledger.
   */
  outcomes(filter?: OutcomeFilter): AsyncIterable<RecordOutcome>;
  /**
   * Up to `limit` of a chain's latest outcomes after `after` in (line, key) order, as places: a page of
   * what a resume merges with the source as both are read in line order. Read whole before it resolves,
   * so a run may ask for the next page between its writes.
   */
  outcomePlaces(
    chain: string,
    after: { line: number; key: string } | undefined,
    limit: number,
  ): Promise<OutcomePlace[]>;
  /** Keys of a chain whose latest outcome has one of these statuses: what a resume skips or re-runs. */
  keysWithStatus(chain: string, statuses: readonly RecordStatus[]): Promise<Set<string>>;
  /** The latest outcome of one key in a chain, if it has one. */
  outcomeOf(chain: string, key: string): Promise<RecordOutcome | undefined>;
  /** How many records of a chain are in each status (every status is present, zero when none). */
  countByStatus(chain: string): Promise<StatusCounts>;
  /** The latest outcomes of a chain counted by status, error kind and run, without reading them out. */
  tallyChain(chain: string): Promise<ChainTally[]>;
  /**
   * The chain's outcomes by segment and the source marks kept beside them, for a resume that opens a
   * file source where the finished part ends (segmentMarks.ts); absent where outcomes are not segmented.
   */
  segmentProgress?(chain: string): Promise<SegmentProgress>;
  /** Keeps the chain's source marks; absent with {@link segmentProgress}. */
  saveSegmentMarks?(chain: string, marks: ReadonlyMap<number, SegmentMark>): Promise<void>;

  /** Appends a sign-off to the history; unchecking an item is a sign-off with `checked: false`. */
  recordSignOff(signOff: SignOff): Promise<void>;
  /** Sign-offs of a checklist (or of all), in the order they were recorded. */
  signOffs(checklist?: string): Promise<SignOff[]>;

  /**
   * Makes every write so far durable. Refuses (UserError, nothing written) rather than drop what another
   * process recorded meanwhile.
   */
  save(): Promise<void>;
  /** Releases what the ledger holds; unsaved writes may be lost. */
  close(): Promise<void>;
}

/**
 * Where a run's checkpoints go: its start, every record's outcome, its end. `append` only buffers, so the
 * hot path never waits on the ledger per record; `flush` makes everything appended durable in one group
 * commit (an outcome counts as checkpointed once the flush that wrote it resolved).
 */
export interface OutcomeRecorder {
  /** Buffers an entry (nothing is written until `flush`); returns its sequence number. */
  append(entry: NewJournalEntry): number;
  /** Writes everything buffered durably; calls made meanwhile join the next group commit. */
  flush(): Promise<void>;
  /** Makes everything recorded so far readable through the ledger (the embedded one folds its journal). */
  checkpoint(): Promise<void>;
  /** Flushes what is buffered and releases the recorder; later calls return the same promise. */
  close(): Promise<void>;
  /**
   * Units per concurrency slot whose outcome may wait for its flush to resolve while the run sends new
   * ones: beyond the units in flight, what a crash can send again (see the two values below).
   */
  readonly durabilityWindowPerSlot: number;
}

/**
 * The window of a recorder whose flush writes at once and fsyncs after (the embedded journal): an outcome
 * written survives a `kill -9`, so the window bounds only what a power loss sends again. Wide, so the run
 * does not wait for each fsync: 64 measured 7 % more records/s than 16 on a no-op action.
 */
export const WRITTEN_AT_ONCE_WINDOW_PER_SLOT = 64;

/**
 * The window of a recorder whose outcomes exist only once committed (PostgreSQL): it bounds what a
 * `kill -9` sends again, so it stays narrow.
 */
export const COMMITTED_WINDOW_PER_SLOT = 16;

/** What a run works with, from `openLedgerForRun`. */
export interface RunLedger {
  ledger: Ledger;
  journal: OutcomeRecorder;
  /** What a run that crashed had recorded and never made part of the ledger, recovered now. */
  recovered: JournalScan;
}

/** Who holds the lock. */
export interface LockInfo {
  pid: number;
  host: string;
  runId: string;
  cell: string;
  startedAt: string;
}

/** A lock found stale and replaced, so the operator can be told. */
export interface StaleLock {
  /** What the stale lock said, when it was readable. */
  info?: LockInfo;
  /** Why it was stale, in words. */
  reason: string;
}

/** A lock this process holds. */
export interface RunLock {
  readonly file: string;
  readonly info: LockInfo;
  /** The stale lock this one replaced, if any. */
  readonly takenOver?: StaleLock;
  /** Removes the lock if it is still this one (never someone else's); safe to call twice. */
  release(): void;
  /**
   * Calls `listener` (at once if it happened already) when the lock is lost while held: another process
   * took it while the database that keeps it was away. The run must then stop. Only a lock kept in a
   * database can be lost.
   */
  onLost?(listener: (reason: string) => void): void;
}

/** One kind of ledger: how a runbook's ledger of that kind is opened, locked and recorded into. */
export interface LedgerBackend {
  /** Opens the ledger of a runbook for reading and for writes that are saved explicitly. */
  open(runbookFile: string): Promise<Ledger>;
  /**
   * Takes the run lock: one run of a runbook at a time. A lock left by a process that is gone is taken
   * over (`takenOver` says so); a live one is refused with a UserError saying who holds it.
   */
  lockRuns(runbookFile: string, holder: LockInfo): Promise<RunLock>;
  /**
   * Opens the ledger for a run, holding the run lock: recovers what a crashed run recorded, then opens
   * the recorder of the new run. On failure nothing is left open.
   */
  openForRun(runbookFile: string): Promise<RunLedger>;
}
