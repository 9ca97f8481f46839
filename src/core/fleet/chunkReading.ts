/**
 * How a worker reads the source for the chunks it holds (chunkWork.ts claims them, this file reads them).
 *
 * A chunk of a CSV or JSON Lines file knows the byte where its first line starts: the file is opened
 * there, read to the chunk's end, and read on only into a chunk claimed next that starts right there;
 * any other chunk is opened at its own first byte. Without that byte (a run split before the chunks kept
 * it, a JSON array, inline records, SQLite), the source is read in order, once, skipping the lines of
 * chunks other workers hold; only a chunk that lies behind the reading position (taken over from a dead
 * worker) makes it read the source again. A database source's chunks are key ranges, each read alone.
 *
 * This folder cannot depend on the vscode API.
 */
import type { SourceItem } from '../model/types';
import type { KeyRange } from '../sources/sourceKind';
import type { LineStart } from '../sources/sourceSeek';
import type { ClaimedChunk } from './chunkLeases';
import { keyRangeOf } from './chunkRanges';

/** Where a worker opens the source for a chunk: a range of a database's keys, or a line start of a file. */
export interface ChunkReading {
  keys?: KeyRange;
  from?: LineStart;
}

/** A chunk as the reading sees it while the worker holds it. */
export interface ReadChunk extends ClaimedChunk {
  /** The line from which the next chunk is claimed ahead (its last tenth). */
  claimAheadAt: number;
  /** Its lease ran out before a renewal (a stalled process) and another worker may hold it now. */
  lost: boolean;
}

/** What the reading asks of the worker that claims the chunks. */
export interface ChunkCursor<C extends ReadChunk> {
  /** The next chunk to read; undefined: none left (or the run stops). */
  next(): Promise<C | undefined>;
  /** The feed read past the chunk's last line: no more unit of it will come. */
  fed(chunk: C): void;
  /** The feed reached the chunk's last lines: the chunk after it may be claimed now. */
  claimAhead(): void;
}

/** Each claimed chunk's key range read alone, one after another. */
export async function* keyRangeItems<C extends ReadChunk>(
  chunks: ChunkCursor<C>,
  open: (keys: KeyRange) => AsyncIterable<SourceItem>,
): AsyncGenerator<SourceItem> {
  for (let chunk = await chunks.next(); chunk; chunk = await chunks.next()) {
    for await (const item of open(keyRangeOf(chunk))) {
      // A lost chunk is left to its new holder: what this worker fed of it ends in flight.
      if (chunk.lost) break;
      yield item;
    }
    chunks.fed(chunk);
  }
}

/** The source read in line order, yielding the lines of claimed chunks (see the file's comment). */
export async function* lineRangeItems<C extends ReadChunk>(
  chunks: ChunkCursor<C>,
  open: (from?: LineStart) => AsyncIterable<SourceItem>,
): AsyncGenerator<SourceItem> {
  let chunk = await chunks.next();
  while (chunk) {
    let previous = -1;
    let behind = false;
    for await (const item of open(startOf(chunk))) {
      // A lost chunk is left to its new holder: what this worker fed of it ends in flight.
      while (chunk && (item.line > chunk.lastLine || chunk.lost)) {
        chunks.fed(chunk);
        chunk = await chunks.next();
        // Lines of the new chunk were read already in this pass: read the source again. A chunk that
        // knows its first byte and does not start at this item is opened there instead.
        if (chunk && chunk.firstLine <= previous) behind = true;
        if (chunk?.firstByte !== undefined && chunk.firstLine > item.line) behind = true;
        if (behind) break;
      }
      if (!chunk || behind) break;
      previous = item.line;
      if (item.line < chunk.firstLine) continue;
      if (item.line >= chunk.claimAheadAt) chunks.claimAhead();
      yield item;
    }
    if (behind) continue;
    if (!chunk) return;
    chunks.fed(chunk); // the source ended inside it
    chunk = await chunks.next();
  }
}

/**
 * Where a reading of `chunk` starts: its first line's byte when it knows it, unless that is the file's
 * start (read from there as a whole read does, byte order mark and all); undefined: the source's start.
 */
function startOf(chunk: ClaimedChunk): LineStart | undefined {
  return chunk.firstByte ? { line: chunk.firstLine, byte: chunk.firstByte } : undefined;
}
