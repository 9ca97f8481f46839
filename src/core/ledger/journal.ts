/**
 * The journal: an append-only JSON Lines file, `<runbook>.d/journal.jsonl`, holding the checkpoints of a
 * run (its start, every record's outcome, its end). sql.js can only write the whole database, which is
 * far too slow to do per record; appending one line is not. An outcome counts as checkpointed once the
 * `flush()` that wrote it has resolved: its bytes are then fsync'd.
 *
 * Every few seconds a run rotates its journal: the file is renamed `journal-<last seq>.jsonl` and the run
 * goes on in a new, empty one while a worker thread (foldWorker.ts) folds the rotated file into the
 * ledger: its entries are applied, the ledger is saved atomically, and only then is the file removed.
 * The run's thread never runs SQLite and never waits for a fold. Applying an entry twice gives the same
 * state, so a crash between the save and the removal is harmless; a crashed run's files are folded on
 * the next open, rotated ones first. Readers apply every file, in the same order.
 *
 * This folder cannot depend on the vscode API.
 */
import * as fs from 'node:fs';
import type { RecordOutcome } from '../model/runs';
import { UserError } from '../model/types';
import { fsyncDirectory, truncateDurably, writeAllSync } from './durableFs';
import type { JournalEntry, JournalScan, NewJournalEntry } from './journalFile';
import {
  journalFileIn,
  journalFilesIn,
  lastRotatedSeq,
  rotatedJournalFile,
  rotatedJournalFilesIn,
  scanJournal,
} from './journalFile';
import { PendingBytes } from './pendingBytes';
import { SerialWrites } from './serialWrites';
import type { SqlJsLedger } from './sqlJsLedger';

export type { JournalEntry, JournalScan, NewJournalEntry } from './journalFile';
export { journalFileIn, rotatedJournalFilesIn } from './journalFile';

/** An open journal, appended to by the one process that holds the run lock. */
export class Journal {
  /** The lines appended since the last write, already encoded. */
  private readonly pending = new PendingBytes();
  /** Every write, rotation and close runs after the previous one: the file has one writer at a time. */
  private readonly writes = new SerialWrites();
  private closing: Promise<void> | undefined;
  private syncs = 0;
  /** Bytes were written since the last fsync began. */
  private unsynced = false;
  /** `seq` of the last entry in a rotated file: the current file holds the entries after it. */
  private rotatedThrough: number;

  private constructor(
    readonly file: string,
    private readonly stateDir: string,
    private fd: number,
    private nextSeq: number,
  ) {
    this.rotatedThrough = nextSeq - 1;
  }

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
    const lastSeq = scan.entries > 0 ? scan.lastSeq : lastRotatedSeq(stateDir);
    return new Journal(file, stateDir, fd, lastSeq + 1);
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
    return seq;
  }

  /**
   * Writes every buffered entry now, with one write, and resolves once an fsync has made them durable.
   * The write does not wait for an fsync under way: once written, an entry survives a `kill -9` (the
   * page cache outlives the process), so a killed run repeats only what was still buffered. The fsyncs,
   * which only a power loss needs, are coalesced: flushes made while one is under way share the next,
   * so a thousand outcomes finishing together cost two fsyncs, not a thousand. After a failed write the
   * journal refuses further use: what reached the disk is unknown, and the run must stop rather than
   * count unwritten outcomes.
   */
  flush(): Promise<void> {
    try {
      this.writeBuffered();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.writes.coalesce(this.groupCommit);
  }

  /**
   * Writes what is buffered and fsyncs it, then renames the file `journal-<last seq>.jsonl` for a fold to
   * take and goes on in a new, empty one. False when nothing was appended since the last rotation (no
   * file is made).
   */
  rotate(): Promise<boolean> {
    // In its turn (no fsync is then under way on the file it closes), and synchronously: nothing is
    // appended meanwhile, so the rotated file holds exactly the entries up to the seq it is named by, all
    // fsync'd, and the flushes that wrote them resolve on that fsync, never on one of the next file.
    return this.writes.run(async () => {
      this.writeBuffered();
      const lastSeq = this.nextSeq - 1;
      if (lastSeq === this.rotatedThrough) return false;
      try {
        this.syncWrittenNow();
        fs.renameSync(this.file, rotatedJournalFile(this.stateDir, lastSeq));
        const fd = fs.openSync(this.file, 'a');
        // Both names are durable only once the folder is: a crash before leaves the old name, folded alike.
        fsyncDirectory(this.stateDir);
        fs.closeSync(this.fd);
        this.fd = fd;
      } catch (error) {
        throw this.refuseWrites(error);
      }
      this.rotatedThrough = lastSeq;
      return true;
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

  /** Writes what is buffered and fsyncs what is written. */
  private async writePending(): Promise<void> {
    this.writeBuffered();
    await this.syncWritten();
  }

  /** `writePending` as a callback made once: every record's wait for its group commit calls `flush`. */
  private readonly groupCommit = (): Promise<void> => this.writePending();

  /**
   * Writes what is buffered into the page cache, synchronously: a fraction of a millisecond, where an
   * asynchronous write waited for a thread of libuv's pool and then for its callback's turn.
   */
  private writeBuffered(): void {
    if (this.writes.failure) throw this.writes.failure;
    if (this.pending.isEmpty) return;
    try {
      writeAllSync(this.fd, this.pending.take());
    } catch (error) {
      throw this.refuseWrites(error);
    }
    this.unsynced = true;
  }

  /** Fsyncs what was written before it starts. */
  private async syncWritten(): Promise<void> {
    if (!this.unsynced || checkpointsDisabledForBenchmark()) return;
    // Cleared first: what is written during the fsync is another fsync's.
    this.unsynced = false;
    try {
      await fsync(this.fd);
    } catch (error) {
      throw this.refuseWrites(error);
    }
    this.syncs += 1;
  }

  /** Fsyncs what was written, blocking: a rotation's few milliseconds every few seconds. */
  private syncWrittenNow(): void {
    if (!this.unsynced || checkpointsDisabledForBenchmark()) return;
    this.unsynced = false;
    fs.fsyncSync(this.fd);
    this.syncs += 1;
  }

  /** A write failed: what reached the disk is unknown, so the journal takes no more entries. */
  private refuseWrites(error: unknown): Error {
    return this.writes.stop(
      new UserError(
        `journal ${this.file} could not be written (${(error as Error).message}): the run must stop; ` +
          'records whose outcome was not written are sent again, with the same idempotency key, on resume',
      ),
    );
  }

  private assertWritable(): void {
    if (this.writes.failure) throw this.writes.failure;
    if (this.closing) throw new Error(`journal ${this.file} is closed`);
  }
}

/**
 * Reads the journal of a state folder, every file in order: its valid entries, and what the scan found
 * (a torn last line is the current file's).
 */
export function replay(stateDir: string): { entries: JournalEntry[]; scan: JournalScan } {
  const entries: JournalEntry[] = [];
  const scan = scanFiles(journalFilesIn(stateDir), (entry) => entries.push(entry));
  return { entries, scan };
}

/** Scans files in order as one journal: the entries of all, the seq and torn tail of the last. */
function scanFiles(
  files: readonly string[],
  visit: (entry: JournalEntry, file: string, line: number) => void,
) {
  const total: JournalScan = { entries: 0, lastSeq: 0, validBytes: 0 };
  for (const file of files) {
    const scan = scanJournal(file, (entry, line) => visit(entry, file, line));
    total.entries += scan.entries;
    if (scan.entries > 0) total.lastSeq = scan.lastSeq;
    total.validBytes = scan.validBytes;
    if (scan.tornTail) total.tornTail = scan.tornTail;
    else delete total.tornTail;
  }
  return total;
}

/**
 * Applies the journal of a state folder to `ledger` in memory, in one transaction; nothing is saved or
 * removed. What a reader (`status`, `ledger`, the report, the extension) needs to see what a run that
 * crashed, or still runs, has recorded. A malformed journal is refused (UserError) and the ledger in
 * memory is left as it was.
 */
export function applyJournal(ledger: SqlJsLedger, stateDir: string): JournalScan {
  return applyFiles(ledger, journalFilesIn(stateDir));
}

/** Applies journal files in order, in one transaction, a batch at a time so no file is held whole. */
function applyFiles(ledger: SqlJsLedger, files: readonly string[]): JournalScan {
  return ledger.transaction(() => {
    const entries: JournalEntry[] = [];
    let batchFile = '';
    let firstLine = 1;
    const applyBatch = () => applyEntries(ledger, entries.splice(0), batchFile, firstLine);
    const read = scanFiles(files, (entry, file, line) => {
      if (file !== batchFile) applyBatch();
      if (entries.length === 0) {
        batchFile = file;
        firstLine = line;
      }
      entries.push(entry);
      if (entries.length === OUTCOMES_PER_BATCH) applyBatch();
    });
    applyBatch();
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
 * Applies the journal of a state folder to `ledger` in one transaction, saves the ledger, then removes
 * the rotated files and empties the current one. Idempotent: folding the same journal again gives the
 * same ledger. A malformed journal is refused (UserError) before anything is saved or removed; the ledger
 * in memory is left as it was. Must not run while a `Journal` of the same folder is writing: a run's
 * folds use `foldRotatedJournals`.
 */
export async function foldJournal(ledger: SqlJsLedger, stateDir: string): Promise<JournalScan> {
  const rotated = rotatedJournalFilesIn(stateDir);
  const file = journalFileIn(stateDir);
  const scan = applyFiles(ledger, [...rotated, file]);
  if (scan.entries > 0) await ledger.save();
  // Only after the save is durable: a crash before this line leaves the journal to be folded again.
  if (scan.entries > 0 || scan.tornTail) truncateDurably(file, 0);
  removeDurably(stateDir, rotated);
  return scan;
}

/**
 * A running journal's fold (foldWorker.ts runs it beside the run): applies the rotated files to `ledger`,
 * saves it, then removes them. If another process saved the ledger (a sign-off), it is read again first
 * so its work is kept; everything the run recorded is in the journal, so nothing of it is lost by the
 * reload. Returns how many entries were folded.
 */
export async function foldRotatedJournals(ledger: SqlJsLedger, stateDir: string): Promise<number> {
  const rotated = rotatedJournalFilesIn(stateDir);
  if (rotated.length === 0) return 0;
  if (!ledger.isUnchangedOnDisk()) ledger.reload();
  let scan = applyFiles(ledger, rotated);
  if (!ledger.isUnchangedOnDisk()) {
    // Saved by another process while this fold applied: read its work back and apply the fold again.
    ledger.reload();
    scan = applyFiles(ledger, rotated);
  }
  await ledger.save();
  // Only after the save is durable: a crash before this line leaves the files to be folded again.
  removeDurably(stateDir, rotated);
  return scan.entries;
}

function removeDurably(stateDir: string, files: readonly string[]): void {
  if (files.length === 0) return;
  for (const file of files) fs.rmSync(file, { force: true });
  fsyncDirectory(stateDir);
}

/** Outcomes of a journal handed to the ledger at once: enough to fill its multi-row statements. */
const OUTCOMES_PER_BATCH = 4096;

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
