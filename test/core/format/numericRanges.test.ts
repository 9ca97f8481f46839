import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  formatNumber,
  NUMERIC_RANGES,
  rangeProblem,
  typedRangeProblem,
} from '../../../src/core/model/numericRanges';

describe('numeric ranges', () => {
  it('are listed in README.md exactly as the code enforces them', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    for (const [name, r] of Object.entries(NUMERIC_RANGES)) {
      const row = `| \`${name}\` | ${formatNumber(r.min)} to ${formatNumber(r.max)}${r.integer ? ', whole' : ''} | ${r.unit} |`;
      assert.ok(readme.includes(row), `README.md lacks the row: ${row}`);
    }
  });

  it('accepts the ends of a range and refuses what lies beyond, Infinity and NaN, saying the range', () => {
    assert.equal(rangeProblem('rate', 1_000_000), undefined);
    assert.equal(rangeProblem('rate', 0.00001), undefined);
    assert.match(
      rangeProblem('rate', 1e308) ?? '',
      /^1e\+308 is out of range: must be between 0\.00001 and 1,000,000/,
    );
    assert.match(rangeProblem('rate', Number.POSITIVE_INFINITY) ?? '', /^Infinity is out of range/);
    assert.match(rangeProblem('rate', Number.NaN) ?? '', /^must be a number between/);
    assert.match(rangeProblem('retries', 3.5) ?? '', /a whole number$/);
    assert.equal(rangeProblem('retries', 0), undefined);
  });

  it('judges a typed rate as the editor box and backfill control do: empty, words and 1e308 refused', () => {
    assert.equal(typedRangeProblem('rate', '60'), undefined);
    assert.equal(typedRangeProblem('rate', ' 0.5 '), undefined);
    assert.match(
      typedRangeProblem('rate', '1e308') ?? '',
      /^1e\+308 is out of range: must be between 0\.00001 and 1,000,000/,
    );
    assert.match(typedRangeProblem('rate', '') ?? '', /^must be a number between/);
    assert.match(typedRangeProblem('rate', 'fast') ?? '', /^must be a number between/);
    assert.match(typedRangeProblem('rate', '0') ?? '', /^0 is out of range/);
  });
});
