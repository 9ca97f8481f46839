import { strict as assert } from 'node:assert';
import { chunkOfLine, chunkRanges, END_OF_SOURCE } from '../../../src/core/fleet/chunkRanges';
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
});
