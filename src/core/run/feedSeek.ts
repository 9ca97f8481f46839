/**
 * A resume that opens its file source where the chain's finished part ends, instead of reading it from
 * line 1 to skip what is done (39 s before the first record of a 10-million-record chain halted at 60 %).
 *
 * As a whole run reads its source, it notes per outcome segment (2^16 lines) where the segment's first
 * item starts in the file and, once it has read the segment to its end, how many of its items were owed
 * an outcome — sent, rejected, or finished earlier (ledger/segmentMarks.ts). A segment whose outcomes
 * number what it owed is finished: a later walk would skip every item of it. A resume opens the file at
 * the first segment that is not finished and counts the items it reads past as skipped, so its books
 * and figures are those of the walk.
 *
 * Why this is exact:
 * - The chain's source is the same file, byte for byte: its fingerprint (with the file's hash) chose
 *   the chain (resumePlan.ts), and marks are only taken from this chain's own readings.
 * - A segment's outcomes can only fall short of what it owed (a record in flight at a kill, a rejection
 *   that a later row of its key replaced), never exceed it, so equality means every owed item has one.
 * - Duplicates: the first valid line of a key is the one sent. A key on lines both before and after
 *   the place read from would be judged without its earlier line, so the start moves back to before
 *   the first line of every such key (the source's repeated keys are known: sources/repeatedKeys.ts,
 *   kept per fingerprint); without them known, the source is read from its start.
 * - Only a whole run marks and seeks: a subset, a re-run list, a sample, records delivered by another
 *   cell or a run shared by workers owe other things, and read from the start as before.
 *
 * This file cannot depend on the vscode API.
 */
import type { Ledger } from '../ledger/ledger';
import type { SegmentMark } from '../ledger/segmentMarks';
import type { RepeatedKeys } from '../sources/repeatedKeys';
import { readRepeatedKeys } from '../sources/repeatedKeysCache';
import type { LineStart, SourceSeek } from '../sources/sourceSeek';
import { sourceKindOf, type SourceSpec } from '../sources/sourceKinds';
import type { ResumePlan } from './resumePlan';

/** How the feed reads a seekable source: from where, past how many skipped items, noting marks. */
export interface FeedSeek {
  /** The line start the source is opened at; from line 1 when absent. */
  from?: LineStart;
  /** Items before `from` owed an outcome: all finished, counted as skipped. */
  skippedBefore: number;
  /** The marks this run takes as it reads. */
  book: SegmentMarkBook;
}

/** Where a seek may start and where it may not, given the chain's segments (pure: unit-tested). */
export function chooseSeekStart(
  progress: {
    linesPerSegment: number;
    outcomes: ReadonlyMap<number, number>;
    marks: ReadonlyMap<number, SegmentMark>;
  },
  repeated: RepeatedKeys,
): { segment: number; from: LineStart; skippedBefore: number } | undefined {
  const finished = (n: number) => {
    const owed = progress.marks.get(n)?.owed;
    return owed !== undefined && (progress.outcomes.get(n) ?? 0) === owed;
  };
  // Segments from which reading may start: every segment before is finished, and its start is known.
  const starts: number[] = [];
  for (let n = 0; finished(n); n += 1) if (progress.marks.has(n + 1)) starts.push(n + 1);
  let at = starts.length - 1;
  const lineOf = (index: number) => progress.marks.get(starts[index]!)!.line;
  for (let moved = true; moved && at >= 0;) {
    moved = false;
    for (const lines of repeated.values()) {
      const first = lines[0]!;
      const last = lines[lines.length - 1]!;
      if (first < lineOf(at) && last >= lineOf(at)) {
        while (at >= 0 && lineOf(at) > first) at -= 1;
        moved = true;
        if (at < 0) break;
      }
    }
  }
  if (at < 0) return undefined;
  const segment = starts[at]!;
  const mark = progress.marks.get(segment)!;
  let skippedBefore = 0;
  for (let n = 0; n < segment; n += 1) skippedBefore += progress.marks.get(n)!.owed!;
  return { segment, from: { line: mark.line, byte: mark.byte }, skippedBefore };
}

/**
 * The marks of a chain as this run reads its source: the marks of the segments read past are kept, those
 * of the segments read are taken afresh, and each segment read to its end is saved with what it owed.
 */
export class SegmentMarkBook {
  private readonly marks: Map<number, SegmentMark>;
  /** The segment of the latest item read, and the items of it owed an outcome so far. */
  private current: number;
  private owedHere = 0;

  constructor(
    private readonly ledger: Required<Pick<Ledger, 'saveSegmentMarks'>>,
    private readonly chain: string,
    readonly linesPerSegment: number,
    earlier: ReadonlyMap<number, SegmentMark>,
    startSegment: number,
  ) {
    this.marks = new Map([...earlier].filter(([n]) => n < startSegment));
    // Reading starts at a segment's first item (line 1, or a mark): every segment read is read whole.
    this.current = startSegment;
    // Segment 0 starts at the file's start: the mark that holds its count.
    if (startSegment === 0) this.marks.set(0, { line: 1, byte: 0 });
  }

  /** What the source is asked to report while it is read. */
  sourceMarks(): NonNullable<SourceSeek['marks']> {
    return {
      every: this.linesPerSegment,
      found: (mark) => {
        const n = Math.floor(mark.line / this.linesPerSegment);
        this.marks.set(n, { line: mark.line, byte: mark.byte });
      },
    };
  }

  /**
   * The feed read an item at `line` (lines ascend): when it is past the current segment, that segment was
   * read to its end and is saved with what it owed. Returns the save when there is one to wait for.
   */
  reading(line: number): Promise<void> | undefined {
    const n = Math.floor(line / this.linesPerSegment);
    if (n <= this.current) return undefined;
    this.close(this.current);
    this.current = n;
    this.owedHere = 0;
    return this.save();
  }

  /** The item just read is owed an outcome. */
  owe(): void {
    this.owedHere += 1;
  }

  /** The source was read to its end: the last segment is whole too. */
  ended(): Promise<void> {
    this.close(this.current);
    return this.save();
  }

  private close(n: number): void {
    const mark = this.marks.get(n);
    if (mark) this.marks.set(n, { ...mark, owed: this.owedHere });
  }

  private save(): Promise<void> {
    return this.ledger.saveSegmentMarks(this.chain, this.marks);
  }
}

/** What decides whether a run marks its source and where a resume starts reading it. */
export interface FeedSeekInput {
  ledger: Pick<Ledger, 'segmentProgress' | 'saveSegmentMarks'>;
  plan: Pick<ResumePlan, 'chain' | 'rerun' | 'delivered'>;
  source: SourceSpec;
  /** No subset, no sample, not shared by workers: the run owes every record of its source. */
  whole: boolean;
  /** Where the source's repeated keys are kept (sources/repeatedKeysCache.ts), for its fingerprint. */
  repeatedKeysFile: string | undefined;
  fingerprint: string;
}

/** How the run's feed reads its source, or undefined when it reads it from the start without marks. */
export async function planFeedSeek(input: FeedSeekInput): Promise<FeedSeek | undefined> {
  const { ledger, plan } = input;
  const eligible =
    input.whole &&
    !plan.rerun &&
    !plan.chain.rejudge &&
    plan.delivered.length === 0 &&
    sourceKindOf(input.source).seekable;
  if (!eligible || !ledger.segmentProgress || !ledger.saveSegmentMarks) return undefined;
  const progress = await ledger.segmentProgress(plan.chain.id);
  // The repeated keys must be known to keep a key's earlier lines in view; kept by the first run of a
  // source big enough to need them, and a smaller source is quick to read from its start anyway.
  const file = input.repeatedKeysFile;
  const repeated =
    plan.chain.resumed && progress.marks.size > 0 && file !== undefined
      ? await readRepeatedKeys(file, input.fingerprint)
      : undefined;
  const start = repeated ? chooseSeekStart(progress, repeated) : undefined;
  const saver = { saveSegmentMarks: ledger.saveSegmentMarks.bind(ledger) };
  const book = new SegmentMarkBook(
    saver,
    plan.chain.id,
    progress.linesPerSegment,
    progress.marks,
    start?.segment ?? 0,
  );
  return start ? { from: start.from, skippedBefore: start.skippedBefore, book } : { skippedBefore: 0, book };
}
