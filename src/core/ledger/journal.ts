/**
 * The journal: an append-only JSON Lines file, `<runbook>.d/journal.jsonl`, holding the checkpoints of a
 * run (its start, every record's outcome, its end). sql.js can only write the whole database, which is
 * far too slow to do per record; appending one line is not. An outcome counts as checkpointed once the
 * `flush()` that wrote it has resolved: its bytes are then fsync'd.
 *
 * The journal is folded into the ledger (at the end of a run, and on the next open after a crash):
 * entries are applied, the ledger is saved atomically, and only then is the journal emptied. Applying
 * an entry twice gives the same state, so a crash between the save and the truncation is harmless.
 *
 * This folder cannot depend on the vscode API.
 */
import * as fs from 'node:fs';
import type { RecordOutcome } from '../model/runs';
import { UserError } from '../model/types';
import { fsyncDirectory, truncateDurably } from './durableFs';
import type { JournalEntry, JournalScan, NewJournalEntry } from './journalFile';
import { journalFileIn, scanJournal } from './journalFile';
import { PendingBytes } from './pendingBytes';
import { SerialWrites } from './serialWrites';
import type { SqlJsLedger } from './sqlJsLedger';

export type { JournalEntry, JournalScan, NewJournalEntry } from './journalFile';
export { journalFileIn } from './journalFile';

/** An open journal, appended to by the one process that holds the run lock. */
export class Journal {
  /** The lines appended since the last write, already encoded. */
  private readonly pending = new PendingBytes();
  /**
   * Every entry in the file, in order: the file is empty when a journal is opened for a run (the run
   * folds what a crashed one left first), and emptied by each fold.
   */
  private unfolded: NewJournalEntry[] = [];
  /** Every write, fold and close runs after the previous one: the file has one writer at a time. */
  private readonly writes = new SerialWrites();
  private closing: Promise<void> | undefined;
  private syncs = 0;

  private constructor(
    readonly file: string,
    private readonly stateDir: string,
    private readonly fd: number,
    private nextSeq: number,
    /** The file held no entry when opened, so `unfolded` is all of it. */
    private readonly startedEmpty: boolean,
  ) {}

  /**
   * Opens (creating) the journal of a state folder for appending. A torn last line is cut away first, so
   * the next append starts on a line of its own; a malformed line before the last is refused.
   */
  static async open(stateDir: string): Promise<Journal> {
    fs.mkdirSync(stateDir, { recursive: true });
    const file = journalFileIn(stateDir);
    const scan = scanJournal(file, () => undefined);
    const existed = fs.existsSync(file);
    if (scan.tornTail) truncateDurably(file, scan.validBytes);
    const fd = fs.openSync(file, 'a');
    // A new file is only durable once its folder is: without it, fsync'd lines could vanish with it.
    if (!existed) fsyncDirectory(stateDir);
    return new Journal(file, stateDir, fd, scan.lastSeq + 1, scan.entries === 0);
  }

  /** Buffers an entry (nothing is written until `flush`); returns its seq. */
  append(entry: NewJournalEntry): number {
    this.assertWritable();
    const seq = this.nextSeq;
    this.nextSeq += 1;
    // Serialised now, so a caller changing the object afterwards cannot change what was checkpointed.
    // `seq` first without copying the entry into a new object: one line per record adds up. An outcome's
    // line is written around its outcome alone (the same text), without cutting a copy of a longer one.
    const line =
      entry.type === 'outcome'
        ? `{"seq":${seq},"type":"outcome","outcome":${JSON.stringify(entry.outcome)}}\n`
        : `{"seq":${seq},${JSON.stringify(entry).slice(1)}\n`;
    this.pending.add(line);
    // Kept for the next fold, which then need not read back and parse what it wrote. An outcome is a
    // new object per record that nobody changes; a run entry (rare) is parsed back from its line.
    this.unfolded.push(entry.type === 'outcome' ? entry : (JSON.parse(line) as JournalEntry));
    return seq;
  }

  /**
   * Writes every buffered entry with one write and fsyncs it; resolves once they are durable. Calls
   * made while a flush is in progress coalesce into the next one, so a thousand outcomes finishing
   * together cost two fsyncs, not a thousand. After a failed write the journal refuses further use:
   * what reached the disk is unknown, and the run must stop rather than count unwritten outcomes.
   */
  flush(): Promise<void> {
    return this.writes.coalesce(this.writeBuffered);
  }

  /** `writePending` as a callback made once: every record's wait for its group commit calls `flush`. */
  private readonly writeBuffered = (): Promise<void> => this.writePending();

  /**
   * Folds the journal into `ledger` and empties it: flushes, applies every entry, saves the ledger
   * atomically, truncates the journal. If another process saved the ledger meanwhile (a dry run, a
   * sign-off), the ledger is first read again so their work is kept; everything this run recorded is in
   * the journal, so nothing of it is lost by the reload. Entries appended during the fold stay buffered.
   */
  checkpoint(ledger: SqlJsLedger): Promise<JournalScan> {
    return this.writes.run(async () => {
      await this.writePending();
      if (!ledger.isUnchangedOnDisk()) ledger.reload();
      if (!this.startedEmpty) return foldJournal(ledger, this.stateDir);
      // What is in the file now; entries appended while this fold yields join the next one.
      const entries = this.unfolded;
      this.unfolded = [];
      try {
        await applyYielding(ledger, entries, this.file);
        if (!ledger.isUnchangedOnDisk()) {
          // Another process saved the ledger while this fold yielded (a sign-off): read its work back
          // and apply the fold again, in one go, so the save keeps both.
          ledger.reload();
          ledger.transaction(() => applyEntries(ledger, entries, this.file, 1));
        }
        if (entries.length > 0) await ledger.save();
        // Only after the save is durable: a crash before this line leaves the journal to be folded again.
        if (entries.length > 0) truncateDurably(this.file, 0);
      } catch (error) {
        // Still in the file: the next fold applies them again, which changes nothing already applied.
        this.unfolded = entries.concat(this.unfolded);
        throw error;
      }
      return { entries: entries.length, lastSeq: this.nextSeq - 1, validBytes: 0 };
    });
  }

  /**
   * Flushes what is buffered and closes the file; later calls return the same promise. A journal whose
   * write already failed only closes the file: that failure was reported to the flush that met it, and
   * nothing buffered since can be written.
   */
  close(): Promise<void> {
    const write = this.writes.failure ? this.writes.settled() : this.writes.run(() => this.writePending());
    this.closing ??= write.finally(() => fs.closeSync(this.fd)).then(() => undefined);
    return this.closing;
  }

  /** How many fsyncs this journal did: group commit keeps it far below the number of entries. */
  get syncCount(): number {
    return this.syncs;
  }

  private async writePending(): Promise<void> {
    if (this.pending.isEmpty) return;
    const bytes = this.pending.take();
    try {
      await writeAll(this.fd, bytes);
      this.pending.written();
      if (!checkpointsDisabledForBenchmark()) {
        await fsync(this.fd);
        this.syncs += 1;
      }
    } catch (error) {
      throw this.writes.stop(
        new UserError(
          `journal ${this.file} could not be written (${(error as Error).message}): the run must stop; ` +
            'records whose outcome was not written are sent again, with the same idempotency key, on resume',
        ),
      );
    }
  }

  private assertWritable(): void {
    if (this.writes.failure) throw this.writes.failure;
    if (this.closing) throw new Error(`journal ${this.file} is closed`);
  }
}

/** Reads the journal of a state folder: its valid entries in order, and a torn last line if there is one. */
export function replay(stateDir: string): { entries: JournalEntry[]; scan: JournalScan } {
  const entries: JournalEntry[] = [];
  const scan = scanJournal(journalFileIn(stateDir), (entry) => entries.push(entry));
  return { entries, scan };
}

/**
 * Applies the journal of a state folder to `ledger` in memory, in one transaction; nothing is saved or
 * truncated. What a reader (`status`, `ledger`, the report, the extension) needs to see what a run that
 * crashed, or still runs, has recorded. A malformed journal is refused (UserError) and the ledger in
 * memory is left as it was.
 */
export function applyJournal(ledger: SqlJsLedger, stateDir: string): JournalScan {
  const file = journalFileIn(stateDir);
  return ledger.transaction(() => {
    const entries: JournalEntry[] = [];
    let firstLine = 1;
    const read = scanJournal(file, (entry, line) => {
      if (entries.length === 0) firstLine = line;
      entries.push(entry);
      // Applied a batch at a time so a long journal (left by a crash) is never held whole.
      if (entries.length === OUTCOMES_PER_BATCH) applyEntries(ledger, entries.splice(0), file, firstLine);
    });
    applyEntries(ledger, entries, file, firstLine);
    return read;
  });
}

/**
 * Applies journal entries in order: outcomes a batch at a time (see SqlJsLedger.upsertOutcomes), always
 * before the next entry of another kind, so entries still apply in journal order.
 */
function applyEntries(
  ledger: SqlJsLedger,
  entries: readonly NewJournalEntry[],
  file: string,
  /** The line of the first entry in the file, for messages. */
  firstLine: number,
): void {
  const outcomes: RecordOutcome[] = [];
  const upsertPending = () => {
    ledger.upsertOutcomes(outcomes);
    outcomes.length = 0;
  };
  entries.forEach((entry, index) => {
    if (entry.type === 'outcome') {
      outcomes.push(entry.outcome);
      return;
    }
    upsertPending();
    applyRunEntry(ledger, entry, file, firstLine + index);
  });
  upsertPending();
}

/**
 * Applies the journal of a state folder to `ledger` in one transaction, saves the ledger, then empties
 * the journal. Idempotent: folding the same journal again gives the same ledger. A malformed journal is
 * refused (UserError) before anything is saved or truncated; the ledger in memory is left as it was.
 * Must not run while a `Journal` of the same folder is writing: use `Journal.checkpoint` then.
 */
export async function foldJournal(ledger: SqlJsLedger, stateDir: string): Promise<JournalScan> {
  const file = journalFileIn(stateDir);
  const scan = applyJournal(ledger, stateDir);
  if (scan.entries > 0) await ledger.save();
  // Only after the save is durable: a crash before this line leaves the journal to be folded again.
  if (scan.entries > 0 || scan.tornTail) truncateDurably(file, 0);
  return scan;
}

/** Outcomes of a journal handed to the ledger at once: enough to fill its multi-row statements. */
const OUTCOMES_PER_BATCH = 4096;

/**
 * Entries a fold during a run applies between two turns of the event loop: a few milliseconds' worth
 * (outcomes take 5 to 10 µs each), which the rate limiter makes up.
 */
const ENTRIES_PER_TURN = 512;

/**
 * Applies a running journal's entries to `ledger` in slices, each in its own transaction, letting the
 * event loop turn between them. Applied in one go, the few seconds of outcomes a fold during a run
 * holds (tens of thousands at 5,000/s) kept the loop busy for a tenth of a second or more: no response
 * was read and no record sent meanwhile, and the rate limiter, which makes up no more than 5 ms, lost the
 * rest of that time. A prefix of the journal applied is a state the fold passes through anyway, and
 * nothing is saved before the last slice.
 */
async function applyYielding(ledger: SqlJsLedger, entries: readonly NewJournalEntry[], file: string) {
  for (let start = 0; start < entries.length; start += ENTRIES_PER_TURN) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    const slice = entries.slice(start, start + ENTRIES_PER_TURN);
    ledger.transaction(() => applyEntries(ledger, slice, file, start + 1));
  }
}

/** Applies a run's start or end (outcomes go through `SqlJsLedger.upsertOutcomes`). */
function applyRunEntry(
  ledger: SqlJsLedger,
  entry: Exclude<NewJournalEntry, { type: 'outcome' }>,
  file: string,
  line: number,
): void {
  switch (entry.type) {
    case 'run-start':
      ledger.startRunSync(entry.run);
      return;
    case 'run-end':
      if (!ledger.finishRunSync(entry.id, entry.outcome, entry.reason, entry.counts, entry.endedAt)) {
        throw new UserError(
          `journal ${file}:${line} ends run ${entry.id}, which ledger ${ledger.file} does not know: ` +
            'the ledger does not belong with this journal (restored from a backup?); nothing was changed',
        );
      }
      return;
  }
}

/** `fs.write` may write less than asked; loop until every byte is out. */
async function writeAll(fd: number, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await write(fd, bytes, offset);
}

function write(fd: number, bytes: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.write(fd, bytes, offset, bytes.length - offset, null, (error, written) =>
      error ? reject(error) : resolve(written),
    ),
  );
}

/**
 * Benchmarks only (bench/checkpointCost.mjs): `BACKFILL_BENCH_NO_FSYNC=1` skips the fsync of each group
 * commit, so the cost of durable checkpoints can be measured against none. It voids "nothing is lost" on
 * a crash; nothing but that benchmark sets it.
 */
function checkpointsDisabledForBenchmark(): boolean {
  return process.env.BACKFILL_BENCH_NO_FSYNC === '1';
}

function fsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));
}
