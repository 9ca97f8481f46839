/**
 * Where each outcome segment's part of a file source begins, kept beside the segments of a chain
 * (`outcomes/<chain>/marks.json`): what lets a resume open the source at the first segment that is not
 * finished instead of reading it from line 1 (run/seekResume.ts decides, sources/sourceSeek.ts reads).
 *
 * Per segment n: the line and byte offset where the first source item at or after line n·L begins, and
 * how many of the segment's items were owed an outcome (sent, rejected, or finished earlier) when the
 * run read the segment to its end. A segment whose outcomes number what it owed is finished.
 *
 * Versioned: a file of another version, or none (a ledger older than this file), only means the resume
 * reads the source from its start, as it always did. This file cannot depend on the vscode API.
 */
import * as path from 'node:path';
import { readFileIfExists, replaceFileDurably } from './durableFs';

/** One segment's mark; `owed` is absent until the run has read the segment to its end. */
export interface SegmentMark {
  line: number;
  byte: number;
  owed?: number;
}

/** What a resume needs to know of a chain's segments to start reading where the finished part ends. */
export interface SegmentProgress {
  linesPerSegment: number;
  /** Outcomes in each segment, by segment number (journal included). */
  outcomes: ReadonlyMap<number, number>;
  /** The marks recorded for the chain, by segment number. */
  marks: ReadonlyMap<number, SegmentMark>;
}

const VERSION = 1;
const FILE = 'marks.json';

interface MarksFile {
  version: number;
  linesPerSegment: number;
  /** Segment number → [line, byte, owed or null]. */
  segments: Record<string, [number, number, number | null]>;
}

/** The marks kept in `chainDir` for segments of `linesPerSegment` lines; none when absent or of another kind. */
export function readSegmentMarks(chainDir: string, linesPerSegment: number): Map<number, SegmentMark> {
  const marks = new Map<number, SegmentMark>();
  let parsed: MarksFile;
  try {
    const text = readFileIfExists(path.join(chainDir, FILE))?.toString('utf8');
    if (text === undefined) return marks;
    parsed = JSON.parse(text) as MarksFile;
  } catch {
    return marks; // a hint only: without it the source is read from its start
  }
  if (parsed.version !== VERSION || parsed.linesPerSegment !== linesPerSegment) return marks;
  for (const [n, entry] of Object.entries(parsed.segments ?? {})) {
    if (!Array.isArray(entry)) continue;
    const [line, byte, owed] = entry;
    if (![Number(n), line, byte].every(Number.isSafeInteger)) continue;
    marks.set(Number(n), { line, byte, ...(Number.isSafeInteger(owed) ? { owed: owed! } : {}) });
  }
  return marks;
}

/** Replaces the marks kept in `chainDir` (a temporary file, fsync, rename). */
export function writeSegmentMarks(
  chainDir: string,
  linesPerSegment: number,
  marks: ReadonlyMap<number, SegmentMark>,
): void {
  const segments: MarksFile['segments'] = {};
  for (const [n, mark] of [...marks].sort(([a], [b]) => a - b)) {
    segments[n] = [mark.line, mark.byte, mark.owed ?? null];
  }
  const file: MarksFile = { version: VERSION, linesPerSegment, segments };
  replaceFileDurably(path.join(chainDir, FILE), Buffer.from(JSON.stringify(file)));
}
