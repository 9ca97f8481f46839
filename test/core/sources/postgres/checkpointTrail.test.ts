import { strict as assert } from 'node:assert';
import {
  CheckpointTrail,
  type SourceCheckpoint,
} from '../../../../src/core/sources/postgres/checkpointTrail';

/** Reads `pages` pages of 10 rows (ids 1…) through a trail; `change` edits a row first. */
function read(pages: number, dryRun: SourceCheckpoint[] = [], change?: (id: number) => number) {
  let trail: SourceCheckpoint[] = [];
  const reader = new CheckpointTrail(dryRun, (list) => (trail = list));
  for (let page = 0; page < pages; page++) {
    const rows = Array.from({ length: 10 }, (_, i) => {
      const id = page * 10 + i + 1;
      return { id, amount: change ? change(id) : id };
    });
    reader.page(rows, JSON.stringify(rows.at(-1)!.id));
  }
  reader.end();
  return { trail, firstChange: reader.firstChange };
}

describe('checkpoint trail of a database source', () => {
  it('keeps at most 129 checkpoints however many pages, the last one at the end', () => {
    const { trail } = read(1000);
    assert.ok(trail.length <= 129, `${trail.length} checkpoints`);
    assert.deepEqual(trail.at(-1)?.end, true);
    assert.equal(trail.at(-1)?.lastKey, '10000');
  });

  it('finds nothing when the rows are the same', () => {
    const dryRun = read(1000).trail;
    assert.equal(read(1000, dryRun).firstChange, undefined);
  });

  it('bounds the first changed row between two checkpoints', () => {
    const dryRun = read(1000).trail;
    const { firstChange } = read(1000, dryRun, (id) => (id === 6543 ? -1 : id));
    const match = /^the rows with keys after (\d+) up to (\d+)$/.exec(firstChange ?? '');
    assert.ok(match, firstChange);
    assert.ok(Number(match[1]) < 6543 && 6543 <= Number(match[2]), firstChange);
    assert.ok(Number(match[2]) - Number(match[1]) <= 10 * 16, `${firstChange}: a narrow range`);
  });

  it('says a change after the last checkpoint, or in the first page, in words', () => {
    const dryRun = read(3).trail;
    assert.equal(read(4, dryRun).firstChange, 'the rows with keys after 30 to the last');
    assert.equal(
      read(3, dryRun, (id) => (id === 2 ? 0 : id)).firstChange,
      'the rows with keys from the first up to 10',
    );
  });
});
