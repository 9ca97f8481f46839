import { strict as assert } from 'node:assert';
import {
  chunkingOf,
  chunkOfLine,
  chunkRanges,
  END_OF_SOURCE,
  KEY_CHUNK_LINES,
  keyChunkRanges,
  keyRangeOf,
} from '../../../src/core/fleet/chunkRanges';
import { RowsHash } from '../../../src/core/sources/sourcePin';
import type { SourceItem } from '../../../src/core/model/types';

async function* itemsAt(lines: number[]): AsyncGenerator<SourceItem> {
  for (const line of lines) yield { kind: 'record', line, fields: {} };
}

describe('chunk ranges', () => {
  it('cuts the items into chunks of the given size that cover every line there can be', async () => {
    const ranges = await chunkRanges(itemsAt([2, 3, 5, 8, 9, 10, 12]), 3);
    assert.deepEqual(ranges, [
      { n: 0, firstLine: 0, lastLine: 7 },
      { n: 1, firstLine: 8, lastLine: 11 },
      { n: 2, firstLine: 12, lastLine: END_OF_SOURCE },
    ]);
  });

  it('makes one chunk of a source with no items, or fewer items than a chunk holds', async () => {
    assert.deepEqual(await chunkRanges(itemsAt([]), 10), [{ n: 0, firstLine: 0, lastLine: END_OF_SOURCE }]);
    assert.deepEqual(await chunkRanges(itemsAt([2, 3]), 10), [
      { n: 0, firstLine: 0, lastLine: END_OF_SOURCE },
    ]);
  });

  it('puts every item in exactly one chunk', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => 2 + i * 3);
    const ranges = await chunkRanges(itemsAt(lines), 7);
    const perChunk = new Map<number, number>();
    for (const line of lines) {
      const holding = ranges.filter((range) => line >= range.firstLine && line <= range.lastLine);
      assert.equal(holding.length, 1, `line ${line}`);
      assert.equal(chunkOfLine(ranges, line), holding[0]);
      perChunk.set(holding[0]!.n, (perChunk.get(holding[0]!.n) ?? 0) + 1);
    }
    assert.deepEqual(new Set([...perChunk.values()].slice(0, -1)), new Set([7]));
  });

  it('cuts a database source into ranges of its key, each with its own lines and the hash of its rows', async () => {
    const rows = [3, 5, 8, 13, 21].map((id) => ({ id, name: `n${id}` }));
    async function* read(): AsyncGenerator<SourceItem> {
      for (const [i, fields] of rows.entries()) yield { kind: 'record', line: i + 1, fields };
      yield { kind: 'rejected', line: 6, reason: 'the key "id" is NULL in this row' };
    }
    const tooMany = () => new Error('too many');
    const ranges = await keyChunkRanges(read(), { size: 2, key: 'id', hashRows: true, tooMany });
    const hashOf = (part: typeof rows) => {
      const hash = new RowsHash();
      for (const fields of part) hash.add(fields);
      return hash.digest(32);
    };
    assert.deepEqual(ranges, [
      {
        n: 0,
        firstLine: 0,
        lastLine: KEY_CHUNK_LINES - 1,
        keys: { through: '5', rowsHash: hashOf(rows.slice(0, 2)) },
      },
      {
        n: 1,
        firstLine: KEY_CHUNK_LINES,
        lastLine: 2 * KEY_CHUNK_LINES - 1,
        keys: { after: '5', through: '13', rowsHash: hashOf(rows.slice(2, 4)) },
      },
      {
        n: 2,
        firstLine: 2 * KEY_CHUNK_LINES,
        lastLine: 3 * KEY_CHUNK_LINES - 1,
        keys: { after: '13', rowsHash: hashOf(rows.slice(4)) },
      },
    ]);
    assert.deepEqual(keyRangeOf(ranges[1]!), {
      after: '5',
      through: '13',
      rowsHash: hashOf(rows.slice(2, 4)),
      lineBase: KEY_CHUNK_LINES,
    });
    const unhashed = await keyChunkRanges(read(), { size: 2, key: 'id', hashRows: false, tooMany });
    assert.deepEqual(unhashed[1]!.keys, { after: '5', through: '13' });
  });

  it('cuts files, inline records and SQLite files by line, PostgreSQL by key, and no command output', () => {
    for (const type of ['csv', 'jsonl', 'json', 'inline', 'sqlite'])
      assert.equal(chunkingOf({ type }), 'lines');
    assert.equal(chunkingOf({ type: 'postgres' }), 'keys');
    assert.equal(chunkingOf({ type: 'command' }), undefined);
  });
});
