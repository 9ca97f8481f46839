/**
 * The journal's on-disk format: JSON Lines, one entry per line, each line complete only with its
 * newline. Reading it is strict in the middle and forgiving at the end: a crash can only ever cut the
 * last write short, so a partial last line is a torn write (ignored, and cut away before the next
 * append), while a malformed line followed by good ones means the file was damaged or edited, and is
 * refused with its line number rather than guessed at.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { ErrorKind, RecordOutcome, RecordStatus, RunMode, RunOutcome, RunRecord } from '../model/runs';
import { RECORD_STATUSES as ALL_RECORD_STATUSES } from '../model/runs';
import { UserError } from '../model/types';

/** One checkpoint, numbered by `seq` (strictly increasing within a journal file). */
export type JournalEntry =
  | { seq: number; type: 'outcome'; outcome: RecordOutcome }
  | { seq: number; type: 'run-start'; run: RunRecord }
  | {
      seq: number;
      type: 'run-end';
      id: string;
      outcome: RunOutcome;
      reason?: string;
      counts?: string;
      endedAt: string;
    };

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;

/** An entry as it is appended: the journal gives it its `seq`. */
export type NewJournalEntry = WithoutSeq<JournalEntry>;

/** What reading a journal found. */
export interface JournalScan {
  /** Complete, valid entries, in order. */
  entries: number;
  /** `seq` of the last valid entry, 0 when there is none. */
  lastSeq: number;
  /** Length of the valid part: the file up to the end of its last valid line. */
  validBytes: number;
  /** A last line cut short by a crash: not an entry; the next append starts where it started. */
  tornTail?: { line: number; bytes: number };
}

/** The journal file inside a state folder: the one a run appends to. */
export function journalFileIn(stateDir: string): string {
  return path.join(stateDir, 'journal.jsonl');
}

/**
 * Where a run puts its journal when it rotates it for a fold (journal.ts): named by the seq of its last
 * entry, so the rotated files of a folder sort in the order they were written.
 */
export function rotatedJournalFile(stateDir: string, lastSeq: number): string {
  return path.join(stateDir, `journal-${lastSeq}.jsonl`);
}

/** The rotated journal files of a state folder, waiting for a fold, oldest first. */
export function rotatedJournalFilesIn(stateDir: string): string[] {
  return rotatedJournals(stateDir).map((rotated) => rotated.file);
}

/** The seq of the last entry of the newest rotated file of a state folder; 0 when there is none. */
export function lastRotatedSeq(stateDir: string): number {
  return rotatedJournals(stateDir).at(-1)?.lastSeq ?? 0;
}

/** The rotated files of a state folder with the seq each is named by, oldest first. */
function rotatedJournals(stateDir: string): { file: string; lastSeq: number }[] {
  let names: string[];
  try {
    names = fs.readdirSync(stateDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .flatMap((name) => {
      const seq = /^journal-(\d+)\.jsonl$/.exec(name)?.[1];
      return seq === undefined ? [] : [{ file: path.join(stateDir, name), lastSeq: Number(seq) }];
    })
    .sort((a, b) => a.lastSeq - b.lastSeq);
}

/** Every journal file of a state folder in the order its entries were written: the rotated ones, then the current one. */
export function journalFilesIn(stateDir: string): string[] {
  return [...rotatedJournalFilesIn(stateDir), journalFileIn(stateDir)];
}

/**
 * Reads a journal from start to end, calling `visit` with each valid entry and its line number. A missing
 * file is an empty journal. Throws a UserError naming the file and line for a malformed line that is not
 * the last one, and for a `seq` that does not increase (two writers, or an edit); never writes.
 */
export function scanJournal(file: string, visit: (entry: JournalEntry, line: number) => void): JournalScan {
  const scan: JournalScan = { entries: 0, lastSeq: 0, validBytes: 0 };
  let held: CompleteLine | undefined;
  const accept = (line: CompleteLine) => {
    const entry = parseEntry(line, scan.lastSeq, file);
    visit(entry, line.number);
    scan.entries += 1;
    scan.lastSeq = entry.seq;
    scan.validBytes = line.end;
  };
  // A line is only known to be the last once the next one (or the end of the file) is seen.
  const tail = forEachCompleteLine(file, (line) => {
    if (held) accept(held);
    held = line;
  });
  const tornLine = held && !acceptLast(held, accept) ? held.number : tail.line;
  if (tail.end > scan.validBytes) scan.tornTail = { line: tornLine, bytes: tail.end - scan.validBytes };
  return scan;
}

/**
 * Accepts the last complete line, with one allowance: if it is malformed and holds NUL bytes, it is what
 * some file systems leave when a crash hits an append (the size grew, the data never landed), so it is
 * torn rather than refused. Returns false when it was torn.
 */
function acceptLast(line: CompleteLine, accept: (line: CompleteLine) => void): boolean {
  try {
    accept(line);
    return true;
  } catch (error) {
    if (!(error instanceof UserError) || !line.bytes.includes(0)) throw error;
    return false;
  }
}

interface CompleteLine {
  number: number;
  bytes: Buffer;
  /** File offsets of the first byte and of the byte after the newline. */
  start: number;
  end: number;
}

const CHUNK_BYTES = 1 << 20;

/**
 * Calls `visit` for every newline-terminated line; returns the number the line after them would have and
 * the offset of the end of the file.
 */
function forEachCompleteLine(
  file: string,
  visit: (line: CompleteLine) => void,
): { line: number; end: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { line: 1, end: 0 };
    throw error;
  }
  let carry = Buffer.alloc(0);
  let carryStart = 0;
  let number = 0;
  try {
    for (;;) {
      // A fresh buffer per chunk: lines handed to `visit` are views into it and must stay intact.
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const read = fs.readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (read === 0) break;
      const data =
        carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let from = 0;
      for (let newline = data.indexOf(10, from); newline >= 0; newline = data.indexOf(10, from)) {
        number += 1;
        visit({
          number,
          bytes: data.subarray(from, newline),
          start: carryStart + from,
          end: carryStart + newline + 1,
        });
        from = newline + 1;
      }
      carry = data.subarray(from);
      carryStart += from;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { line: number + 1, end: carryStart + carry.length };
}

function parseEntry(line: CompleteLine, lastSeq: number, file: string): JournalEntry {
  const refuse = (why: string) => malformedLine(file, line.number, why);
  let json: unknown;
  try {
    json = JSON.parse(line.bytes.toString('utf8'));
  } catch (error) {
    throw refuse(`not JSON: ${(error as Error).message}`);
  }
  let entry: JournalEntry;
  if (isPlainOutcomeEntry(json)) {
    entry = json;
  } else {
    const parsed = ENTRY.safeParse(json);
    if (!parsed.success) throw refuse(describeIssue(parsed.error.issues[0]));
    entry = parsed.data;
  }
  if (entry.seq <= lastSeq) {
    throw refuse(`seq ${entry.seq} does not follow seq ${lastSeq}: two processes wrote it, or it was edited`);
  }
  return entry;
}

/**
 * The fast path of the schema below for the line a journal holds a million of: true only for an outcome
 * entry that `ENTRY` accepts and that has no field `ENTRY` does not know (which it would strip), so the
 * object can be used as it is. Anything else, valid or not, goes through `ENTRY`, which then has the
 * last word and the located message: this check may only be stricter than the schema, never laxer.
 */
function isPlainOutcomeEntry(json: unknown): json is JournalEntry & { type: 'outcome' } {
  if (!isObject(json) || json.type !== 'outcome' || !isInteger(json.seq) || json.seq <= 0) return false;
  let fields = 0;
  for (const name in json) {
    if (name !== 'seq' && name !== 'type' && name !== 'outcome') return false;
    fields += 1;
  }
  return fields === 3 && isPlainOutcome(json.outcome);
}

const REQUIRED_OUTCOME_FIELDS = 9;

function isPlainOutcome(value: unknown): value is RecordOutcome {
  if (!isObject(value)) return false;
  let required = 0;
  for (const name in value) {
    const field = value[name];
    switch (name) {
      case 'run':
      case 'chain':
      case 'cell':
      case 'key':
      case 'idempotencyKey':
      case 'at':
        if (typeof field !== 'string') return false;
        required += 1;
        break;
      case 'status':
        if (!RECORD_STATUS_SET.has(field)) return false;
        required += 1;
        break;
      case 'attempts':
        if (!isInteger(field) || field < 0) return false;
        required += 1;
        break;
      case 'line':
        if (!isInteger(field)) return false;
        required += 1;
        break;
      case 'lastError':
      case 'expected':
      case 'actual':
        if (typeof field !== 'string') return false;
        break;
      case 'errorKind':
        if (!ERROR_KIND_SET.has(field)) return false;
        break;
      case 'httpStatus':
        if (!isInteger(field)) return false;
        break;
      case 'durationMs':
        if (typeof field !== 'number' || !Number.isFinite(field)) return false;
        break;
      case 'rowsAffected':
        if (!isInteger(field) || field < 0) return false;
        break;
      default:
        return false;
    }
  }
  return required === REQUIRED_OUTCOME_FIELDS;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What `z.number().int()` accepts: a safe integer. */
function isInteger(value: unknown): value is number {
  return Number.isSafeInteger(value);
}

function malformedLine(file: string, line: number, why: string): UserError {
  return new UserError(
    `journal ${file}:${line} is not a valid journal entry (${why}); the journal was left untouched. ` +
      'It holds checkpoints not yet folded into the ledger: repair or remove that line, then run again',
    [{ file, line, message: why }],
  );
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid entry';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/** Lists every member of a string union; the compiler rejects a list that misses one. */
function everyMemberOf<T extends string>() {
  return <const L extends readonly T[]>(list: L & ([T] extends [L[number]] ? unknown : never)): L => list;
}

const RECORD_STATUSES = everyMemberOf<RecordStatus>()(ALL_RECORD_STATUSES);
const RECORD_STATUS_SET: ReadonlySet<unknown> = new Set(RECORD_STATUSES);
const RUN_MODES = everyMemberOf<RunMode>()(['execute', 'production', 'verify']);
const RUN_OUTCOMES = everyMemberOf<RunOutcome>()([
  'running',
  'succeeded',
  'below-threshold',
  'halted',
  'crashed',
]);
const ERROR_KINDS = everyMemberOf<ErrorKind>()([
  'http-4xx',
  'http-429',
  'http-5xx',
  'timeout',
  'connection',
  'command-exit',
  'handler-error',
  'render',
  'other',
]);

const ERROR_KIND_SET: ReadonlySet<unknown> = new Set(ERROR_KINDS);

const OUTCOME: z.ZodType<RecordOutcome> = z.object({
  run: z.string(),
  chain: z.string(),
  cell: z.string(),
  key: z.string(),
  status: z.enum(RECORD_STATUSES),
  attempts: z.number().int().nonnegative(),
  line: z.number().int(),
  lastError: z.string().optional(),
  errorKind: z.enum(ERROR_KINDS).optional(),
  httpStatus: z.number().int().optional(),
  durationMs: z.number().optional(),
  expected: z.string().optional(),
  actual: z.string().optional(),
  rowsAffected: z.number().int().nonnegative().optional(),
  idempotencyKey: z.string(),
  at: z.string(),
});

const RUN: z.ZodType<RunRecord> = z.object({
  id: z.string(),
  chain: z.string(),
  cell: z.string(),
  job: z.string(),
  mode: z.enum(RUN_MODES),
  environment: z.string(),
  operator: z.string(),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  fingerprint: z.string(),
  params: z.string(),
  outcome: z.enum(RUN_OUTCOMES),
  reason: z.string().optional(),
  counts: z.string().optional(),
});

const SEQ = z.number().int().positive();

const ENTRY: z.ZodType<JournalEntry> = z.discriminatedUnion('type', [
  z.object({ seq: SEQ, type: z.literal('outcome'), outcome: OUTCOME }),
  z.object({ seq: SEQ, type: z.literal('run-start'), run: RUN }),
  z.object({
    seq: SEQ,
    type: z.literal('run-end'),
    id: z.string(),
    outcome: z.enum(RUN_OUTCOMES),
    reason: z.string().optional(),
    counts: z.string().optional(),
    endedAt: z.string(),
  }),
]);
