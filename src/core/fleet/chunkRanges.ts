/**
 * How a run shared by many workers is cut into chunks, each holding about `size` records, together
 * covering every record there can be — the first starts at the beginning and the last one never ends —
 * so no record can fall between two chunks, whatever a worker reads.
 *
 * - **Files, inline records and SQLite files** are cut into ordinal ranges of their line numbers
 *   (`first_line`..`last_line`): their content is part of the fingerprint every worker must match, so a
 *   line is the same record for every worker and every read. A CSV or JSON Lines file is cut only where
 *   a row starts (a CSV line where no quoted field is open: sources/sourceSeek.ts), and each chunk keeps
 *   the byte offset of its first line (`first_byte`), where a worker opens the file instead of reading it
 *   from its first byte: reading from there yields the very items a whole read yields from that line on.
 * - **A PostgreSQL query** is cut into ranges of its key (`key_from` exclusive .. `key_to` inclusive,
 *   compared by the database), and a worker reads its chunk alone (`WHERE key > from AND key <= to`). Its
 *   rows cannot be cut by ordinal: they are numbered as read, and those numbers move while the backfill
 *   runs (a `WHERE … IS NULL` selection shrinks as rows are fixed), so a record could move into a chunk
 *   already done and never be sent. A key stays in its range. Chunk n numbers its rows n·2^32 + 1, + 2, …
 *   so a record's line still says which chunk holds it. With `fingerprint: rows` each chunk keeps the hash
 *   of its rows as the run's creator read them (in the snapshot of the check before the run), and a worker
 *   refuses a chunk whose rows differ before sending any of them: the data stays pinned as in one process.
 * - **A command's output** may differ per run and has no key order to read by: such a run stays in the
 *   process that started it.
 *
 * This folder cannot depend on the vscode API.
 */
import type { Header } from '../format/schemas';
import { UserError, type SourceItem } from '../model/types';
import type { KeyRange } from '../sources/sourceKind';
import { sourceKindOf, type SourceSpec } from '../sources/sourceKinds';
import type { LineStart, SourceSeek } from '../sources/sourceSeek';
import { RowsHash } from '../sources/sourcePin';

/** One chunk: its number in the run, and the source lines it holds (inclusive). */
export interface ChunkRange {
  n: number;
  firstLine: number;
  lastLine: number;
  /** A chunk of a CSV or JSON Lines file: the byte offset where its first line starts (see above). */
  firstByte?: number;
  /** A chunk of a database source's keys: the range a worker reads alone (see above). */
  keys?: Omit<KeyRange, 'lineBase'>;
}

/** The last line of the last chunk: a line no source reaches. */
export const END_OF_SOURCE = Number.MAX_SAFE_INTEGER;

/** How a run reading each kind of source is cut (see above); a kind not listed is not shared. */
const CHUNKING: Readonly<Record<string, 'lines' | 'keys'>> = {
  csv: 'lines',
  jsonl: 'lines',
  json: 'lines',
  inline: 'lines',
  sqlite: 'lines',
  postgres: 'keys',
};

/** How a run reading this kind of source is cut into chunks, or undefined when it cannot be shared. */
export function chunkingOf(source: { type: string }): 'lines' | 'keys' | undefined {
  return CHUNKING[source.type];
}

/** Lines of one key-range chunk: chunk n's rows are lines n·2^32 + 1, + 2, … */
export const KEY_CHUNK_LINES = 2 ** 32;
/** Most key-range chunks of a run, so every line stays an exact integer (2^53 / 2^32 = 2^21). */
export const MAX_KEY_CHUNKS = 2 ** 21;

/** How a shared run is cut and leased; `ledger.chunkSize` and `ledger.leaseSeconds` of its environment. */
export interface ChunkSettings {
  /** Items per chunk (default 1,000): a chunk is what a dead worker's successor takes over at once. */
  chunkSize: number;
  /** How long a claim lasts without renewal (default 30 s): a killed worker's chunk waits this long. */
  leaseSeconds: number;
}

export const DEFAULT_CHUNK_SETTINGS: ChunkSettings = { chunkSize: 1000, leaseSeconds: 30 };

/** The chunk settings of environment `environment` of a runbook, defaults for what it does not say. */
export function chunkSettingsOf(header: Header, environment: string): ChunkSettings {
  const ledger = header.environments[environment]?.ledger;
  return {
    chunkSize: ledger?.chunkSize ?? DEFAULT_CHUNK_SETTINGS.chunkSize,
    leaseSeconds: ledger?.leaseSeconds ?? DEFAULT_CHUNK_SETTINGS.leaseSeconds,
  };
}

/**
 * Cuts the source's items into chunks of `size` items, in the order read: a new chunk starts at the line
 * of every `size`-th item. A source with no item at all is one chunk.
 */
export async function chunkRanges(items: AsyncIterable<SourceItem>, size: number): Promise<ChunkRange[]> {
  const starts = [0];
  let count = 0;
  for await (const item of items) {
    if (count > 0 && count % size === 0) starts.push(item.line);
    count += 1;
  }
  return starts.map((firstLine, n) => ({
    n,
    firstLine,
    lastLine: n + 1 < starts.length ? starts[n + 1]! - 1 : END_OF_SOURCE,
  }));
}

/**
 * Cuts a seekable file source (csv, jsonl) into chunks of about `size` items, like {@link chunkRanges},
 * but each chunk after the first starts at the first row start the source reports once the chunk before
 * holds `size` items, with its byte offset. The source reports a row start before it hands out the items
 * of that line, so a chunk holds exactly `size` items (and the blank lines after them). `open` reads the
 * source from its start, reporting row starts as `seek.marks` asks.
 */
export async function fileChunkRanges(
  open: (seek: Pick<SourceSeek, 'marks'>) => AsyncIterable<SourceItem>,
  size: number,
): Promise<ChunkRange[]> {
  const starts: LineStart[] = [{ line: 0, byte: 0 }];
  let count = 0;
  const marks = {
    every: 1,
    found: (start: LineStart) => {
      if (count < size) return;
      starts.push(start);
      count = 0;
    },
  };
  for await (const item of open({ marks })) {
    void item;
    count += 1;
  }
  return starts.map((start, n) => ({
    n,
    firstLine: start.line,
    lastLine: n + 1 < starts.length ? starts[n + 1]!.line - 1 : END_OF_SOURCE,
    firstByte: start.byte,
  }));
}

/**
 * Cuts a database source's records into ranges of `size` keys, in key order (the order it reads them):
 * a range ends at every `size`-th key, and the last one has no end. With `hashRows`, each range keeps the
 * hash of its rows, which a worker compares before it sends any of them. `tooMany` says what to do when
 * the source would need more chunks than {@link MAX_KEY_CHUNKS}.
 */
export async function keyChunkRanges(
  items: AsyncIterable<SourceItem>,
  options: { size: number; key: string; hashRows: boolean; tooMany: (chunks: number) => Error },
): Promise<ChunkRange[]> {
  const ranges: ChunkRange[] = [];
  let hash = new RowsHash();
  let after: string | undefined;
  const cut = (through: string | undefined) => {
    const n = ranges.length;
    if (n >= MAX_KEY_CHUNKS) throw options.tooMany(n + 1);
    const keys = {
      ...(after !== undefined ? { after } : {}),
      ...(through !== undefined ? { through } : {}),
      ...(options.hashRows ? { rowsHash: hash.digest(32) } : {}),
    };
    ranges.push({ n, firstLine: n * KEY_CHUNK_LINES, lastLine: (n + 1) * KEY_CHUNK_LINES - 1, keys });
    after = through;
    hash = new RowsHash();
  };
  for await (const item of items) {
    if (item.kind !== 'record') continue;
    hash.add(item.fields);
    if (hash.rows === options.size) cut(JSON.stringify(item.fields[options.key]));
  }
  cut(undefined);
  return ranges;
}

/**
 * Cuts a new shared run's source into chunks as its kind asks (see above): `open` reads it once, in the
 * snapshot of the check before the run (reporting row starts when asked to).
 * `environment` names where `ledger.chunkSize` is set.
 */
export function cutIntoChunks(
  source: SourceSpec,
  open: (seek?: Pick<SourceSeek, 'marks'>) => AsyncIterable<SourceItem>,
  size: number,
  environment: string,
): Promise<ChunkRange[]> {
  // The files read line by line, which a reading can start in the middle of, keep their chunks' first bytes.
  if (sourceKindOf(source).seekable) return fileChunkRanges(open, size);
  if (chunkingOf(source) !== 'keys') return chunkRanges(open(), size);
  return keyChunkRanges(open(), {
    size,
    key: source.key,
    hashRows: 'fingerprint' in source && source.fingerprint === 'rows',
    tooMany: (chunks) =>
      new UserError(
        `the source has more than ${MAX_KEY_CHUNKS * size} records, more than ${MAX_KEY_CHUNKS} chunks of ${size} (${chunks} so far): raise ledger.chunkSize of environment ${environment}`,
      ),
  });
}

/** The key range a worker reads for `chunk`, a chunk of a database source's keys. */
export function keyRangeOf(chunk: ChunkRange): KeyRange {
  return { ...chunk.keys, lineBase: chunk.firstLine };
}

/** The chunk of `ranges` (ascending, disjoint) holding `line`, if any. */
export function chunkOfLine<C extends ChunkRange>(ranges: Iterable<C>, line: number): C | undefined {
  for (const range of ranges) if (line >= range.firstLine && line <= range.lastLine) return range;
  return undefined;
}
