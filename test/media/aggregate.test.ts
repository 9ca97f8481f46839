import { strict as assert } from 'node:assert';
import { capList, errorKindLabel, errorKindRows, LIST_CAP, moreText } from '../../media/renderer/aggregate';

describe('renderer aggregation', () => {
  it('caps a list and counts the rest, including records that were counted but not listed', () => {
    const listed = Array.from({ length: 100 }, (_, i) => i);
    const capped = capList(listed, 300_000);
    assert.equal(capped.shown.length, LIST_CAP);
    assert.equal(capped.more, 300_000 - LIST_CAP);
  });

  it('shows a short list whole with nothing more', () => {
    assert.deepEqual(capList([1, 2, 3], 3), { shown: [1, 2, 3], more: 0 });
    assert.deepEqual(capList(undefined, undefined), { shown: [], more: 0 });
  });

  it('says how many more there are, or nothing', () => {
    assert.equal(moreText(299_980), 'and 299,980 more');
    assert.equal(moreText(0), '');
  });

  it('turns hundreds of thousands of errors into one row per kind, most frequent first', () => {
    const rows = errorKindRows({ timeout: 45, 'http-5xx': 250_000, 'http-429': 0, connection: 45 });
    assert.deepEqual(
      rows.map((row) => [row.kind, row.count]),
      [
        ['http-5xx', 250_000],
        ['connection', 45],
        ['timeout', 45],
      ],
    );
    assert.ok(Math.abs(rows.reduce((sum, row) => sum + row.share, 0) - 1) < 1e-9);
  });

  it('labels error kinds for people and keeps unknown kinds as they are', () => {
    assert.equal(errorKindLabel('http-429'), 'HTTP 429 — throttled');
    assert.equal(errorKindLabel('quantum-flux'), 'quantum-flux');
  });
});
