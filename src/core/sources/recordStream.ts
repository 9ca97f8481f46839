/**
 * The bookkeeping every record source shares: a single pass, a content hash of exactly the bytes that
 * were read, and progress counters. Sources only write the generator that turns bytes into items.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { RecordStream, SourceItem } from '../model/types';
import { lineItems, type LineItemReader } from './lineItems';

/** Hashes and counts bytes as they flow past, so a source never has to read its input twice. */
export class ByteTap {
  private readonly hash: Hash = createHash('sha256');
  private count: number;

  /** `skipped`: bytes of the file before where the reading starts (a resume's seek), counted as read. */
  constructor(readonly skipped = 0) {
    this.count = skipped;
  }

  /** Records a chunk that was just read. */
  update(chunk: Buffer | string): void {
    this.hash.update(chunk);
    this.count += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  }

  get bytesRead(): number {
    return this.count;
  }

  /** Finishes the hash; call once, after the last chunk. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Yields the chunks of `chunks` unchanged after passing each one through `tap`. */
export async function* tapChunks(chunks: AsyncIterable<Buffer>, tap: ByteTap): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    tap.update(chunk);
    yield chunk;
  }
}

/**
 * Wraps a source's item generator as a {@link RecordStream}.
 *
 * The hash is only handed out after the generator ran to its end: a hash of a partly read source
 * would let a production gate match a dry run that never saw all the data.
 */
export function createRecordStream(
  read: (tap: ByteTap) => AsyncGenerator<SourceItem>,
  totalBytes?: number,
  /** The reading starts at this byte of the file (a resume's seek): it has no content hash then. */
  startByte = 0,
): RecordStream {
  return recordStreamOf(
    (tap, onEnd) => {
      async function* readToEnd(): AsyncGenerator<SourceItem> {
        yield* read(tap);
        onEnd();
      }
      return readToEnd();
    },
    totalBytes,
    startByte,
  );
}

/**
 * A {@link RecordStream} of a line-based file source (lineItems.ts): the same stream as
 * {@link createRecordStream} gives, without a generator step per item.
 */
export function createLineRecordStream(
  read: (tap: ByteTap) => LineItemReader,
  totalBytes?: number,
  startByte = 0,
): RecordStream {
  return recordStreamOf((tap, onEnd) => lineItems(read(tap), onEnd), totalBytes, startByte);
}

function recordStreamOf(
  iterate: (tap: ByteTap, onEnd: () => void) => AsyncIterator<SourceItem>,
  totalBytes: number | undefined,
  startByte: number,
): RecordStream {
  const tap = new ByteTap(startByte);
  let started = false;
  let hash: string | undefined;

  return {
    [Symbol.asyncIterator]() {
      if (started) throw new Error('a record stream can be iterated only once; open the source again');
      started = true;
      return iterate(tap, () => {
        hash = tap.digest();
      });
    },
    contentHash() {
      if (startByte > 0)
        throw new Error('a record stream read from the middle of its file has no content hash');
      if (hash === undefined) {
        throw new Error('the content hash is only known once the record stream was read to its end');
      }
      return hash;
    },
    bytesRead: () => tap.bytesRead,
    totalBytes: () => totalBytes,
  };
}

/**
 * The content hash of a source that can only be known by reading it (a command's output, inline
 * records): reads the stream to the end, which is what computes it.
 */
export async function hashByReading(stream: RecordStream): Promise<string> {
  for await (const item of stream) void item;
  return stream.contentHash();
}
