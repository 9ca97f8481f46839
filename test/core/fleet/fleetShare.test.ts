import { strict as assert } from 'node:assert';
import { concurrencyShare, rateShare } from '../../../src/core/fleet/fleetShare';

describe('fleet shares', () => {
  const members = ['a', 'b', 'c'];

  it("splits the fleet's rate evenly, the shares of the live members adding up to it", () => {
    assert.equal(rateShare(200, ['a', 'b'], 'a') + rateShare(200, ['a', 'b'], 'b'), 200);
    const shares = members.map((me) => rateShare(100, members, me));
    assert.ok(Math.abs(shares.reduce((sum, share) => sum + share, 0) - 100) < 1e-9);
    assert.deepEqual(shares, [100 / 3, 100 / 3, 100 / 3]);
  });

  it('counts this member before the others have seen its first heartbeat', () => {
    assert.equal(rateShare(90, ['a', 'b'], 'c'), 30);
    assert.equal(rateShare(90, [], 'c'), 90);
  });

  it('re-computes the shares as members come and go', () => {
    assert.equal(rateShare(120, ['a', 'b', 'c', 'd'], 'a'), 30);
    assert.equal(rateShare(120, ['a', 'c'], 'a'), 60);
  });

  it('splits the concurrency in whole slots that add up to it, the remainder to the first members', () => {
    const shares = members.map((me) => concurrencyShare(10, members, me));
    assert.deepEqual(shares, [4, 3, 3]);
    assert.equal(
      ['a', 'b'].map((me) => concurrencyShare(9, ['b', 'a'], me)).reduce((s, n) => s + n),
      9,
    );
  });

  it('leaves every member one slot when the fleet has more members than slots', () => {
    assert.deepEqual(
      members.map((me) => concurrencyShare(2, members, me)),
      [1, 1, 1],
    );
  });
});
