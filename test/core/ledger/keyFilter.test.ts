import assert from 'node:assert/strict';
import { KeyFilter } from '../../../src/core/ledger/keyFilter';

describe('KeyFilter', () => {
  it('never says no to a key it was given, and says maybe to few others', () => {
    const filter = new KeyFilter(50_000);
    for (let i = 0; i < 50_000; i++) filter.add(`order-${i * 2}`);
    for (let i = 0; i < 50_000; i++) assert.equal(filter.mayHave(`order-${i * 2}`), true, `order-${i * 2}`);
    let maybes = 0;
    for (let i = 0; i < 50_000; i++) if (filter.mayHave(`order-${i * 2 + 1}`)) maybes += 1;
    assert.ok(maybes < 1500, `${maybes} of 50,000 keys never added answered maybe`);
  });
});
