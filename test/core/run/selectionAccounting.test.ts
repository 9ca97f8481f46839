import { strict as assert } from 'node:assert';
import { SelectionAccounting } from '../../../src/core/run/selectionAccounting';

/** Reads `items` through the accounting, all of them or only the first `upTo`. */
async function readAll(accounting: SelectionAccounting, items: number[], upTo?: number): Promise<void> {
  const iterator = accounting.reading(fromArray(items))[Symbol.asyncIterator]();
  for (let seen = 0; upTo === undefined || seen < upTo; seen += 1) {
    if ((await iterator.next()).done) return;
  }
  await iterator.return?.();
}

async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

describe('SelectionAccounting', () => {
  it('balances when every item read is outside the selection, skipped or has an outcome', async () => {
    const accounting = new SelectionAccounting();
    await readAll(accounting, [1, 2, 3, 4, 5]);
    accounting.onOutside();
    assert.equal(accounting.selected, 4);
    assert.equal(accounting.problem({ outcomes: 3, skipped: 1 }), undefined);
  });

  it('says how many selected records have no outcome', async () => {
    const accounting = new SelectionAccounting();
    await readAll(accounting, [1, 2, 3, 4, 5]);
    const problem = accounting.problem({ outcomes: 3, skipped: 0 });
    assert.match(problem ?? '', /2 of the 5 records selected so far have no outcome/);
    assert.match(problem ?? '', /run the same command to resume/);
  });

  it('does not balance when reading stopped before the end of the source', async () => {
    const accounting = new SelectionAccounting();
    await readAll(accounting, [1, 2, 3, 4, 5], 2);
    assert.match(
      accounting.problem({ outcomes: 2, skipped: 0 }) ?? '',
      /the source was not read to its end \(reading stopped after 2 items\)/,
    );
  });

  it('does not balance with more outcomes than records read', async () => {
    const accounting = new SelectionAccounting();
    await readAll(accounting, [1]);
    assert.match(accounting.problem({ outcomes: 2, skipped: 0 }) ?? '', /1 more outcomes than records/);
  });

  it('ends the source it reads when the reader stops early', async () => {
    let finished = false;
    async function* source() {
      try {
        yield 1;
        yield 2;
      } finally {
        finished = true;
      }
    }
    const accounting = new SelectionAccounting();
    const iterator = accounting.reading(source())[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.return?.();
    assert.equal(finished, true);
  });
});
