/**
 * Where the embedded ledger keeps its outcomes: not in `ledger.sqlite`, which sql.js would hold whole in
 * memory, but in segments of a fixed range of source lines per chain (outcomeSegment.ts):
 *
 *   <runbook>.d/outcomes/chains.json                 the chains, in the order they were first stored
 *   <runbook>.d/outcomes/<chain>/tallies.json        per segment: counts by status, error kind and run
 *   <runbook>.d/outcomes/<chain>/<n>.sqlite          the outcomes of source lines [n·2^18, (n+1)·2^18)
 *
 * A chain's source is fixed (a resume whose data changed is refused), so a key always lands in the same
 * segment. A run dispatches in source order: the one or two segments it is filling are in memory, the
 * rest are on disk. Counting reads the tallies, never the outcomes; streaming opens one segment at a
 * time. Only the process that holds the run lock saves segments (segments, then tallies, then the
 * chain list); a reader applying a live run's journal keeps those outcomes in memory only.
 *
 * This folder cannot depend on the vscode API.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import type { RecordOutcome, RecordStatus } from '../model/runs';
import { RECORD_STATUSES } from '../model/runs';
import {
  readFileIfExists,
  removeDeadTemporaries,
  removeDeadTemporariesIn,
  replaceFileDurably,
} from './durableFs';
import type { ChainTally, OutcomeFilter, OutcomePlace, StatusCounts } from './ledger';
import { linesPerNewSegment, OutcomeSegment, type SegmentTally, segmentOfLine } from './outcomeSegment';
import { notALedger } from './sqlJsFile';
import { readSegmentMarks, type SegmentMark, type SegmentProgress, writeSegmentMarks } from './segmentMarks';

/** Clean segments kept in memory besides those being changed: the run's current one and one behind. */
const CLEAN_SEGMENTS_KEPT = 2;

interface ChainState {
  name: string;
  /** Folder name: a hash of the chain, so any chain id is a safe name. */
  dir: string;
  /** Saved tallies by segment number, as `tallies.json` has them. */
  tallies: Map<number, SegmentTally[]>;
  /** Listed in `chains.json` on disk. */
  listed: boolean;
}

export class OutcomeSegments {
  private readonly chains = new Map<string, ChainState>();
  /** Open segments by `dir/n`, least recently used first. */
  private readonly open = new Map<string, OutcomeSegment>();
  /** Inside `transaction`: the segments it has touched so far. */
  private touched: Set<OutcomeSegment> | undefined;
  /** The size of this ledger's segments, in source lines: fixed when its first chain is listed. */
  private linesPerSegment = linesPerNewSegment();

  /**
   * `fresh`: ignore what is on disk (a ledger being migrated rebuilds its outcomes from its own table,
   * and a migration that was interrupted may have left segments behind); the first save replaces it.
   */
  private constructor(
    private readonly sql: SqlJsStatic,
    readonly dir: string,
    private fresh: boolean,
  ) {}

  static load(sql: SqlJsStatic, dir: string, fresh: boolean): OutcomeSegments {
    const store = new OutcomeSegments(sql, dir, fresh);
    if (!fresh) store.readChainList();
    return store;
  }

  /**
   * Runs `work` so that its upserts are all or nothing: each segment it touches joins one transaction,
   * committed when `work` returns and rolled back when it throws (its segments then are as they were).
   */
  transaction<T>(work: () => T): T {
    if (this.touched) return work();
    this.touched = new Set();
    const touched = this.touched;
    try {
      const result = work();
      for (const segment of touched) segment.commit();
      return result;
    } catch (error) {
      for (const segment of touched) segment.rollback();
      throw error;
    } finally {
      this.touched = undefined;
      this.evict();
    }
  }

  /** Upserts outcomes in order; `volatile` ones (a reader's view of a live journal) are never saved. */
  upsert(outcomes: Iterable<RecordOutcome>, volatile = false): number {
    let count = 0;
    let batch: RecordOutcome[] = [];
    let batchSegment: OutcomeSegment | undefined;
    const flush = () => {
      if (batchSegment && this.touched && !this.touched.has(batchSegment)) {
        batchSegment.begin();
        this.touched.add(batchSegment);
      }
      batchSegment?.upsert(batch);
      if (batchSegment && volatile) batchSegment.volatile = true;
      batch = [];
    };
    let batchChain = '';
    let batchNumber = -1;
    for (const outcome of outcomes) {
      const n = segmentOfLine(outcome.line, this.linesPerSegment);
      if (outcome.chain !== batchChain || n !== batchNumber || !batchSegment) {
        flush();
        batchSegment = this.segment(this.chain(outcome.chain), n);
        batchChain = outcome.chain;
        batchNumber = n;
      }
      batch.push(outcome);
      count += 1;
    }
    flush();
    if (!this.touched) this.evict();
    return count;
  }

  /** See {@link Ledger.outcomes}: chain by chain, segment by segment, each in source-line order. */
  *outcomes(filter: OutcomeFilter = {}): Generator<RecordOutcome> {
    const statuses =
      filter.status === undefined
        ? undefined
        : typeof filter.status === 'string'
          ? [filter.status]
          : filter.status;
    const chains = filter.chain === undefined ? [...this.chains.values()] : this.known(filter.chain);
    for (const chain of chains) {
      for (const n of this.segmentNumbers(chain)) {
        // A saved segment whose tally has none of the statuses asked for is not opened (a resume asks for
        // the rejections of a chain that has none: opening its 150 segments took seconds).
        if (statuses && !this.mayHold(chain, n, statuses)) continue;
        const segment = this.reading(chain, n);
        try {
          yield* segment.outcomes({
            ...(filter.cell !== undefined ? { cell: filter.cell } : {}),
            ...(statuses !== undefined ? { statuses } : {}),
          });
        } finally {
          this.doneReading(segment);
        }
      }
    }
  }

  /**
   * A page of a chain's outcomes after (line, key), in line order, from the segment of that line on:
   * each segment is read in one query and let go, so nothing is held open while a run writes.
   */
  outcomePlaces(
    chain: string,
    after: { line: number; key: string } | undefined,
    limit: number,
  ): OutcomePlace[] {
    const places: OutcomePlace[] = [];
    if (limit <= 0) return places;
    let from = after ?? { line: -1, key: '' };
    const first = after === undefined ? 0 : segmentOfLine(after.line, this.linesPerSegment);
    for (const state of this.known(chain)) {
      for (const n of this.segmentNumbers(state).filter((number) => number >= first)) {
        const segment = this.reading(state, n);
        try {
          places.push(...segment.placesAfter(from, limit - places.length));
        } finally {
          this.doneReading(segment);
        }
        if (places.length >= limit) return places;
        from = { line: -1, key: '' };
      }
    }
    return places;
  }

  /** False when segment n of `chain` is saved, unchanged since, and its tally has none of `statuses`. */
  private mayHold(chain: ChainState, n: number, statuses: readonly RecordStatus[]): boolean {
    const segment = this.open.get(this.id(chain, n));
    const saved = chain.tallies.get(n);
    if (segment?.dirty || segment?.volatile || !saved) return true;
    return saved.some((row) => row.count > 0 && statuses.includes(row.status));
  }

  keysWithStatus(chain: string, statuses: readonly RecordStatus[]): Set<string> {
    const keys = new Set<string>();
    for (const state of this.known(chain)) {
      for (const n of this.segmentNumbers(state)) {
        const segment = this.reading(state, n);
        try {
          for (const key of segment.keysWithStatus(statuses)) keys.add(key);
        } finally {
          this.doneReading(segment);
        }
      }
    }
    return keys;
  }

  /** The latest outcome of a key: looked for segment by segment (nothing but tests asks by key alone). */
  outcomeOf(chain: string, key: string): RecordOutcome | undefined {
    for (const state of this.known(chain)) {
      for (const n of this.segmentNumbers(state)) {
        const segment = this.reading(state, n);
        try {
          const found = segment.outcomeOf(key);
          if (found) return found;
        } finally {
          this.doneReading(segment);
        }
      }
    }
    return undefined;
  }

  /** The chain's outcomes, their number by segment, and the source marks kept beside them (segmentMarks.ts). */
  segmentProgress(chain: string): SegmentProgress {
    const outcomes = new Map<number, number>();
    for (const state of this.known(chain)) {
      for (const n of this.segmentNumbers(state)) {
        const segment = this.open.get(this.id(state, n));
        const rows = segment?.dirty || segment?.volatile ? segment.tally() : (state.tallies.get(n) ?? []);
        outcomes.set(
          n,
          rows.reduce((total, row) => total + row.count, 0),
        );
      }
    }
    const marks = this.fresh ? new Map() : readSegmentMarks(this.chainDir(chain), this.linesPerSegment);
    return { linesPerSegment: this.linesPerSegment, outcomes, marks };
  }

  /** Keeps a chain's source marks (segmentMarks.ts); only the process that holds the run lock calls it. */
  saveSegmentMarks(chain: string, marks: ReadonlyMap<number, SegmentMark>): void {
    writeSegmentMarks(this.chainDir(chain), this.linesPerSegment, marks);
  }

  countByStatus(chain: string): StatusCounts {
    const counts = Object.fromEntries(RECORD_STATUSES.map((status) => [status, 0])) as StatusCounts;
    for (const row of this.tallies(chain)) counts[row.status] += row.count;
    return counts;
  }

  tallyChain(chain: string): ChainTally[] {
    const merged = new Map<string, ChainTally>();
    for (const row of this.tallies(chain)) {
      const id = `${row.status}\u0000${row.errorKind ?? ''}\u0000${row.run}`;
      const entry = merged.get(id);
      if (entry) entry.count += row.count;
      else
        merged.set(id, {
          status: row.status,
          ...(row.errorKind !== undefined ? { errorKind: row.errorKind } : {}),
          run: row.run,
          count: row.count,
        });
    }
    return [...merged.values()];
  }

  lastOutcomeAt(run: string): string | undefined {
    let last: string | undefined;
    for (const chain of this.chains.values()) {
      for (const row of this.tallies(chain.name)) {
        if (row.run === run && (last === undefined || row.lastAt > last)) last = row.lastAt;
      }
    }
    return last;
  }

  /**
   * Saves what changed: every changed segment (except a reader's volatile ones), then the tallies of their
   * chains, then the chain list. A crash in between leaves segments newer than their tallies; the journal
   * they came from is only emptied after this returns, and replaying it rewrites both.
   */
  save(): void {
    if (this.fresh) {
      // A migration: what an interrupted one left is replaced, never mixed with what this one wrote.
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.fresh = false;
    }
    const changed = new Set<ChainState>();
    for (const [id, segment] of this.open) {
      if (!segment.dirty || segment.volatile) continue;
      const { chain, n } = this.parse(id);
      segment.save();
      chain.tallies.set(n, segment.tally());
      changed.add(chain);
    }
    for (const chain of changed) {
      const tallies = Object.fromEntries([...chain.tallies].sort(([a], [b]) => a - b));
      replaceFileDurably(this.talliesFile(chain), Buffer.from(JSON.stringify(tallies)));
    }
    const unlisted = [...this.chains.values()].filter((chain) => !chain.listed && changed.has(chain));
    if (unlisted.length > 0) {
      // What is on disk first, in its order: a chain another process listed meanwhile is kept.
      const names = [
        ...new Set([
          ...this.listedOnDisk(),
          ...[...this.chains.values()]
            .filter((chain) => chain.listed || changed.has(chain))
            .map((chain) => chain.name),
        ]),
      ];
      const list = { linesPerSegment: this.linesPerSegment, chains: names };
      replaceFileDurably(this.chainListFile(), Buffer.from(JSON.stringify(list)));
      for (const chain of unlisted) chain.listed = true;
    }
    this.evict();
  }

  /** Removes what a process killed in the middle of a save left (`FILE.PID.tmp`). */
  removeDeadTemporaries(): void {
    removeDeadTemporaries(this.chainListFile());
    // A chain's folder holds only its segments, tallies and marks: one scan for all of them.
    for (const chain of this.chains.values()) removeDeadTemporariesIn(path.join(this.dir, chain.dir));
  }

  close(): void {
    for (const segment of this.open.values()) segment.close();
    this.open.clear();
  }

  /**
   * Reads the chain list and the tallies again: what another process (or a run's fold thread) saved since.
   * Open segments unchanged here are let go, since their files may have changed; segments changed in
   * memory keep their own counts.
   */
  reload(): void {
    if (this.fresh) return;
    for (const [id, segment] of this.open) {
      if (segment.dirty || segment.volatile || segment.readers > 0) continue;
      segment.close();
      this.open.delete(id);
    }
    this.readChainList();
  }

  private readChainList(): void {
    for (const name of this.listedOnDisk()) {
      const chain = this.chain(name);
      chain.listed = true;
      chain.tallies = this.readTallies(chain);
    }
  }

  /** The chains listed on disk, in order; the segment size is taken from the list too. */
  private listedOnDisk(): string[] {
    const file = this.chainListFile();
    const text = readFileIfExists(file)?.toString('utf8');
    if (text === undefined) return [];
    let list: { chains?: unknown; linesPerSegment?: unknown };
    try {
      list = JSON.parse(text) as typeof list;
    } catch (error) {
      throw notALedger(file, (error as Error).message);
    }
    const size = list.linesPerSegment;
    if (!Array.isArray(list.chains) || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
      throw notALedger(file, 'no list of chains with their segment size');
    }
    this.linesPerSegment = size;
    return list.chains.map(String);
  }

  private readTallies(chain: ChainState): Map<number, SegmentTally[]> {
    const file = this.talliesFile(chain);
    const text = readFileIfExists(file)?.toString('utf8');
    if (text === undefined) return new Map();
    try {
      const parsed = JSON.parse(text) as Record<string, SegmentTally[]>;
      return new Map(Object.entries(parsed).map(([n, rows]) => [Number(n), rows]));
    } catch (error) {
      throw notALedger(file, (error as Error).message);
    }
  }

  /** The tallies of a chain: saved ones, with those of segments changed in memory counted afresh. */
  private tallies(chain: string): SegmentTally[] {
    const rows: SegmentTally[] = [];
    for (const state of this.known(chain)) {
      for (const n of this.segmentNumbers(state)) {
        const segment = this.open.get(this.id(state, n));
        rows.push(...(segment?.dirty || segment?.volatile ? segment.tally() : (state.tallies.get(n) ?? [])));
      }
    }
    return rows;
  }

  /** The segment numbers a chain has, saved or only in memory, in order. */
  private segmentNumbers(chain: ChainState): number[] {
    const numbers = new Set(chain.tallies.keys());
    for (const id of this.open.keys()) {
      const parsed = this.parse(id);
      if (parsed.chain === chain) numbers.add(parsed.n);
    }
    return [...numbers].sort((a, b) => a - b);
  }

  private known(name: string): ChainState[] {
    const chain = this.chains.get(name);
    return chain ? [chain] : [];
  }

  private chain(name: string): ChainState {
    let chain = this.chains.get(name);
    if (!chain) {
      const dir = createHash('sha256').update(name).digest('hex').slice(0, 24);
      chain = { name, dir, tallies: new Map(), listed: false };
      this.chains.set(name, chain);
    }
    return chain;
  }

  /** An open segment, opened (or created) when it is not; marked most recently used. */
  private segment(chain: ChainState, n: number): OutcomeSegment {
    const id = this.id(chain, n);
    let segment = this.open.get(id);
    if (segment) this.open.delete(id);
    else segment = OutcomeSegment.open(this.sql, this.segmentFile(chain, n), this.fresh);
    this.open.set(id, segment);
    return segment;
  }

  /** A segment to read from: an open one (held open meanwhile), else one opened for this read only. */
  private reading(chain: ChainState, n: number): OutcomeSegment {
    const segment = this.open.get(this.id(chain, n));
    if (segment) {
      segment.readers += 1;
      return segment;
    }
    const once = OutcomeSegment.open(this.sql, this.segmentFile(chain, n), this.fresh);
    once.readers = 1;
    return once;
  }

  private doneReading(segment: OutcomeSegment): void {
    segment.readers -= 1;
    if (![...this.open.values()].includes(segment)) segment.close();
  }

  /** Closes the least recently used clean segments beyond the few kept. */
  private evict(): void {
    if (this.touched) return;
    const clean = [...this.open].filter(([, s]) => !s.dirty && !s.volatile && s.readers === 0);
    for (const [id, segment] of clean.slice(0, Math.max(0, clean.length - CLEAN_SEGMENTS_KEPT))) {
      segment.close();
      this.open.delete(id);
    }
  }

  private id(chain: ChainState, n: number): string {
    return `${chain.dir}/${n}`;
  }

  private parse(id: string): { chain: ChainState; n: number } {
    const [dir, n] = id.split('/') as [string, string];
    const chain = [...this.chains.values()].find((c) => c.dir === dir);
    if (!chain) throw new Error(`segment ${id} of no known chain`);
    return { chain, n: Number(n) };
  }

  private chainListFile(): string {
    return path.join(this.dir, 'chains.json');
  }

  private chainDir(name: string): string {
    return path.join(this.dir, this.chain(name).dir);
  }

  private talliesFile(chain: ChainState): string {
    return path.join(this.dir, chain.dir, 'tallies.json');
  }

  private segmentFile(chain: ChainState, n: number): string {
    return path.join(this.dir, chain.dir, `${n}.sqlite`);
  }
}
