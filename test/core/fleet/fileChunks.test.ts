import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChunkLeases, ClaimedChunk } from '../../../src/core/fleet/chunkLeases';
import { END_OF_SOURCE, fileChunkRanges, type ChunkRange } from '../../../src/core/fleet/chunkRanges';
import type { ChunkReading } from '../../../src/core/fleet/chunkReading';
import { ChunkWork } from '../../../src/core/fleet/chunkWork';
import type { SourceItem } from '../../../src/core/model/types';
import { openSource } from '../../../src/core/sources/openSource';
import { collect, sourceSpec, useTempDir } from '../sources/helpers';

/** Where each line of `bytes` starts, found without the source readers: after each line feed byte. */
function lineOffsets(bytes: Buffer): Map<number, number> {
  const offsets = new Map([[1, 0]]);
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) {
    offsets.set(offsets.size + 1, at + 1);
  }
  return offsets;
}

/** A CSV with a byte order mark, CRLF breaks, quoted line breaks, blank lines and a byte that is not UTF-8. */
function awkwardCsv(): { bytes: Buffer; insideQuotes: number[] } {
  const rows: string[] = ['id,note'];
  const insideQuotes: number[] = [];
  for (let i = 1; i <= 30; i += 1) {
    if (i % 4 === 0) {
      rows.push(`r${i},"two`, `lines ${i}"`);
      insideQuotes.push(rows.length);
    } else if (i % 7 === 0) {
      rows.push(`r${i},"three`, '', `lines ${i}"`);
      insideQuotes.push(rows.length - 1, rows.length);
    } else rows.push(`r${i},plain ${i}`);
    if (i % 9 === 0) rows.push('');
  }
  const bytes = Buffer.concat([
    Buffer.from('\uFEFF'),
    Buffer.from(rows.slice(0, 20).join('\r\n') + '\r\n'),
    Buffer.from([0x62, 0x31, 0x2c, 0xff, 0x0a]), // rejected, and longer once decoded
    Buffer.from(rows.slice(20).join('\r\n') + '\r\n'),
  ]);
  // Lines after the byte that is not UTF-8 moved down by one.
  return { bytes, insideQuotes: insideQuotes.map((line) => (line > 20 ? line + 1 : line)) };
}

function awkwardJsonl(): Buffer {
  const lines: string[] = [];
  for (let i = 1; i <= 40; i += 1) {
    lines.push(i % 6 === 0 ? 'not json' : JSON.stringify({ id: `j${i}`, note: i % 5 === 0 ? 'é 😀' : 'x' }));
    if (i % 8 === 0) lines.push('');
  }
  return Buffer.from(lines.join('\n') + '\n');
}

describe('chunks of a CSV or JSON Lines file, opened where they start', () => {
  const dir = useTempDir();
  const csvSpec = { type: 'csv', path: 'chunks.csv', fields: { id: 'string', note: 'string' } };
  const jsonlSpec = { type: 'jsonl', path: 'chunks.jsonl', fields: { id: 'string', note: 'string' } };

  const read = (spec: Record<string, unknown>, chunkBytes: number, where: ChunkReading = {}) =>
    openSource(sourceSpec(spec), {
      baseDir: dir.path,
      chunkBytes,
      ...(where.from ? { seek: { from: where.from } } : {}),
    });
  const cut = (spec: Record<string, unknown>, chunkBytes: number, size: number) =>
    fileChunkRanges((seek) => openSource(sourceSpec(spec), { baseDir: dir.path, chunkBytes, seek }), size);

  /** What every cut of `bytes` must be: exact offsets, row starts only, `size` items each, read alone whole. */
  async function assertCutsAtRowStarts(spec: Record<string, unknown>, bytes: Buffer, notRowStarts: number[]) {
    const offsets = lineOffsets(bytes);
    for (const chunkBytes of [3, 17, 64 * 1024]) {
      const full = await collect(read(spec, chunkBytes));
      for (const size of [1, 3, 7]) {
        const ranges = await cut(spec, chunkBytes, size);
        const where = `chunks of ${size} items, read ${chunkBytes} bytes at a time`;
        assert.ok(ranges.length >= Math.floor(full.length / size), where);
        assert.deepEqual(ranges[0], { n: 0, firstLine: 0, lastLine: ranges[1]!.firstLine - 1, firstByte: 0 });
        assert.equal(ranges.at(-1)!.lastLine, END_OF_SOURCE);
        for (const range of ranges.slice(1)) {
          assert.equal(range.firstByte, offsets.get(range.firstLine), `${where}: chunk ${range.n}`);
          assert.ok(
            !notRowStarts.includes(range.firstLine),
            `${where}: chunk ${range.n} at ${range.firstLine}`,
          );
        }
        for (const range of ranges) {
          const own = full.filter((item) => item.line >= range.firstLine && item.line <= range.lastLine);
          if (range.n < ranges.length - 1) assert.equal(own.length, size, `${where}: chunk ${range.n}`);
          const from = range.n > 0 ? { from: { line: range.firstLine, byte: range.firstByte! } } : {};
          const alone = (await collect(read(spec, chunkBytes, from))).filter(
            (item) => item.line <= range.lastLine,
          );
          assert.deepEqual(alone, own, `${where}: chunk ${range.n} read from its first byte`);
        }
      }
    }
  }

  it('cuts a CSV only where a row starts, each chunk keeping the byte offset of its first line', async () => {
    const { bytes, insideQuotes } = awkwardCsv();
    dir.write('chunks.csv', bytes);
    await assertCutsAtRowStarts(csvSpec, bytes, [1, ...insideQuotes]);
  });

  it('cuts JSON Lines at its lines, each chunk keeping the byte offset of its first line', async () => {
    const bytes = awkwardJsonl();
    dir.write('chunks.jsonl', bytes);
    await assertCutsAtRowStarts(jsonlSpec, bytes, []);
  });

  /** Chunks handed out in a fixed order, as a database of other workers' claims would. */
  function scriptedWork(order: ClaimedChunk[]): ChunkWork {
    const leases = {
      claim: () => Promise.resolve(order.shift()),
      remaining: () =>
        Promise.resolve({ open: 0, heldElsewhere: 0, soonestExpiryMs: undefined, runOutcome: 'running' }),
      finishedKeys: () => Promise.resolve([]),
      markDone: () => Promise.resolve(false),
      release: () => Promise.resolve(),
      renew: () => Promise.resolve({ renewed: new Set<number>(), runOutcome: 'running' }),
    } as unknown as ChunkLeases;
    const hooks = {
      chain: 'chain-1',
      doneKeys: new Set<string>(),
      flush: () => Promise.resolve(),
      stopped: new AbortController().signal,
      onRunEnded: () => undefined,
      onFailure: (error: unknown) => assert.fail(String(error)),
    };
    return new ChunkWork(leases, hooks, 30);
  }

  /**
   * Overwrites the file's bytes from `from` up to the chunk `at`'s first byte with a line of `#`s (the
   * byte before the chunk stays a line feed): a worker that parsed them would number every later line
   * wrongly, and read other records as the chunk's.
   */
  function spoilBefore(file: string, bytes: Buffer, from: number, at: ChunkRange): void {
    const spoiled = Buffer.from(bytes);
    spoiled.fill(0x23, from, at.firstByte! - 1);
    writeFileSync(join(dir.path, file), spoiled);
  }

  async function readChunks(work: ChunkWork, spec: Record<string, unknown>, opened: ChunkReading[]) {
    const items: SourceItem[] = [];
    for await (const item of work.items((where) => {
      opened.push(where ?? {});
      return read(spec, 64 * 1024, where);
    }))
      items.push(item);
    await work.leave();
    return items;
  }

  for (const [kind, spec, bytes, header] of [
    ['CSV', csvSpec, awkwardCsv().bytes, true],
    ['JSON Lines', jsonlSpec, awkwardJsonl(), false],
  ] as const) {
    it(`opens a ${kind} chunk at its first byte and never parses a byte before it${header ? ' but the header' : ''}`, async () => {
      dir.write(spec.path, bytes);
      const full = await collect(read(spec, 64 * 1024));
      const ranges = await cut(spec, 64 * 1024, 5);
      assert.ok(ranges.length >= 5);
      const [second, third, fourth] = [ranges[2]!, ranges[3]!, ranges[4]!];
      spoilBefore(spec.path, bytes, header ? lineOffsets(bytes).get(2)! : 0, second);
      const opened: ChunkReading[] = [];
      const items = await readChunks(
        scriptedWork([second, third, fourth].map((range) => ({ ...range, claims: 1 }))),
        spec,
        opened,
      );
      const expected = full.filter((item) => item.line >= second.firstLine && item.line <= fourth.lastLine);
      assert.ok(expected.length >= 15);
      assert.deepEqual(items, expected);
      // Opened once: the chunks claimed next start where the one before ends.
      assert.deepEqual(opened, [{ from: { line: second.firstLine, byte: second.firstByte } }]);
    });
  }

  it('opens the file again at the first byte of a chunk that does not follow the one it read', async () => {
    const bytes = awkwardJsonl();
    dir.write(jsonlSpec.path, bytes);
    const full = await collect(read(jsonlSpec, 64 * 1024));
    const ranges = await cut(jsonlSpec, 64 * 1024, 5);
    const order = [ranges[3]!, ranges[1]!, ranges[5]!, ranges[0]!];
    const opened: ChunkReading[] = [];
    const items = await readChunks(
      scriptedWork(order.map((range) => ({ ...range, claims: 1 }))),
      jsonlSpec,
      opened,
    );
    const of = (range: ChunkRange) =>
      full.filter((item) => item.line >= range.firstLine && item.line <= range.lastLine);
    assert.deepEqual(items, order.flatMap(of));
    const at = (range: ChunkRange) => ({ from: { line: range.firstLine, byte: range.firstByte } });
    // Chunk 0 starts at the file's start: read as a whole read reads it.
    assert.deepEqual(opened, [at(ranges[3]!), at(ranges[1]!), at(ranges[5]!), {}]);
  });
});
