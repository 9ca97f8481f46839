/**
 * How a run shared by many workers is cut into chunks: ordinal ranges of the source's line numbers
 * (`first_line`..`last_line`), each holding about `size` items, together covering every line there can
 * be — the first range starts at 0 and the last one never ends — so no record can fall between two
 * chunks, whatever a worker's copy of the source holds.
 *
 * Only sources whose line numbers are the same for every worker and every read are cut: files (their
 * content is part of the fingerprint every worker must match) and inline records. A database query's
 * rows are numbered as read, and those numbers move while the backfill runs (a `WHERE … IS NULL`
 * selection shrinks as rows are fixed): a record could move into a chunk already done and never be
 * sent. Such runs (and commands, whose output may differ per run) stay in one process until chunks by
 * key ranges exist.
 *
 * This folder cannot depend on the vscode API.
 */
import type { Header } from '../format/schemas';
import type { SourceItem } from '../model/types';

/** One chunk: its number in the run, and the source lines it holds (inclusive). */
export interface ChunkRange {
  n: number;
  firstLine: number;
  lastLine: number;
}

/** The last line of the last chunk: a line no source reaches. */
export const END_OF_SOURCE = Number.MAX_SAFE_INTEGER;

/** Source kinds a shared run is cut into chunks for: their line numbers never move (see above). */
const CHUNKABLE_SOURCES: ReadonlySet<string> = new Set(['csv', 'jsonl', 'json', 'inline']);

/** Whether a run reading this kind of source can be shared by workers. */
export function isChunkable(source: { type: string }): boolean {
  return CHUNKABLE_SOURCES.has(source.type);
}

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

/** The chunk of `ranges` (ascending, disjoint) holding `line`, if any. */
export function chunkOfLine<C extends ChunkRange>(ranges: Iterable<C>, line: number): C | undefined {
  for (const range of ranges) if (line >= range.firstLine && line <= range.lastLine) return range;
  return undefined;
}
