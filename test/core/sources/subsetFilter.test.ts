import assert from 'node:assert/strict';
import { SubsetSchema } from '../../../src/core/sources/subset';
import { compareKeys, createSubsetFilter } from '../../../src/core/sources/subsetFilter';
import type { ValidRecord } from '../../../src/core/model/types';
import { UserError } from '../../../src/core/model/types';
import { useTempDir } from './helpers';

const records = (keys: (string | number)[]): ValidRecord[] =>
  keys.map((key, index) => ({ key: String(key), line: index + 1, fields: {} }));
const numbered = (count: number) => records(Array.from({ length: count }, (_, i) => i + 1));

/** Runs one reading pass; returns the keys selected while reading and after finishing. */
function select(subset: unknown, input: ValidRecord[], baseDir = '.') {
  const filter = createSubsetFilter(subset === undefined ? undefined : SubsetSchema.parse(subset), {
    baseDir,
  });
  const candidates = input.filter((record) => filter.includes(record));
  const selected = filter.finish(candidates.length);
  const final = input.filter((record) => filter.includes(record)).map((record) => record.key);
  return { candidates: candidates.map((record) => record.key), selected, final };
}

describe('createSubsetFilter', () => {
  const temp = useTempDir();

  it('selects every record without a subset', () => {
    assert.deepEqual(select(undefined, numbered(3)), {
      candidates: ['1', '2', '3'],
      selected: 3,
      final: ['1', '2', '3'],
    });
  });

  it('selects the first N records and still answers the same after finishing', () => {
    assert.deepEqual(select({ first: 2 }, numbered(5)), {
      candidates: ['1', '2'],
      selected: 2,
      final: ['1', '2'],
    });
  });

  it('selects listed keys, numbers included, minus excluded ones', () => {
    const { final } = select({ keys: ['b', 3, 'd'], exclude: ['d'] }, records(['a', 'b', 3, 'd']));
    assert.deepEqual(final, ['b', '3']);
  });

  it('reads keys from a file relative to the runbook folder, skipping blanks and comments', () => {
    temp.write('keys.txt', '# gaps from the verify run\nb\n\n  c  \n');
    const { final } = select({ keysFile: 'keys.txt', keys: ['a'] }, records(['a', 'b', 'c', 'd']), temp.path);
    assert.deepEqual(final, ['a', 'b', 'c']);
  });

  it('refuses a keys file that cannot be read', () => {
    assert.throws(
      () => createSubsetFilter({ keysFile: 'missing.txt' }, { baseDir: temp.path }),
      (error: unknown) =>
        error instanceof UserError && /cannot read subset\.keysFile .*missing\.txt/.test(error.message),
    );
  });

  it('selects an inclusive key range, comparing whole numbers as numbers', () => {
    assert.deepEqual(select({ range: { from: '2', to: '10' } }, numbered(12)).final, [
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
    ]);
    assert.deepEqual(select({ range: { from: 'b' } }, records(['a', 'b', 'c'])).final, ['b', 'c']);
    assert.deepEqual(select({ range: { to: 'b' } }, records(['a', 'b', 'c'])).final, ['a', 'b']);
  });

  it('orders keys as numbers only when both are whole numbers', () => {
    assert.ok(compareKeys('9', '10') < 0);
    assert.ok(compareKeys('123456789012345678901', '99') > 0);
    assert.ok(compareKeys('09', '1') < 0, 'a leading zero makes it text');
    assert.ok(compareKeys('a9', 'a10') > 0);
    assert.equal(compareKeys('7', '7'), 0);
  });

  it('samples a seeded percentage: about the right share, the same for the same seed', () => {
    const input = numbered(10_000);
    const first = select({ sample: { percent: 10, seed: 7 } }, input).final;
    assert.ok(first.length > 850 && first.length < 1150, `selected ${first.length}`);
    assert.deepEqual(select({ sample: { percent: 10, seed: 7 } }, input).final, first);
    assert.notDeepEqual(select({ sample: { percent: 10, seed: 8 } }, input).final, first);
  });

  it('draws a percentage sample that keeps the records of a smaller one', () => {
    const input = numbered(2000);
    const small = select({ sample: { percent: 5 } }, input).final;
    const large = new Set(select({ sample: { percent: 20 } }, input).final);
    assert.ok(small.every((key) => large.has(key)));
  });

  it('samples exactly a count of records, reported in source order once finished', () => {
    const result = select({ sample: { count: 25, seed: 3 } }, numbered(1000));
    assert.equal(result.candidates.length, 1000, 'while reading every record is a candidate');
    assert.equal(result.selected, 25);
    assert.equal(result.final.length, 25);
    assert.deepEqual(
      result.final,
      [...result.final].sort((a, b) => Number(a) - Number(b)),
    );
  });

  it('samples the same records by count whatever order the source lists them in', () => {
    const input = numbered(500);
    const reversed = [...input].reverse().map((record, index) => ({ ...record, line: index + 1 }));
    const forward = select({ sample: { count: 10 } }, input).final;
    assert.deepEqual(new Set(select({ sample: { count: 10 } }, reversed).final), new Set(forward));
  });

  it('applies first after a count sample, and a count sample after the other filters', () => {
    const sample = select({ sample: { count: 10, seed: 5 } }, numbered(300)).final;
    assert.deepEqual(
      select({ sample: { count: 10, seed: 5 }, first: 3 }, numbered(300)).final,
      sample.slice(0, 3),
    );
    const excluded = select({ sample: { count: 10, seed: 5 }, exclude: sample }, numbered(300)).final;
    assert.equal(excluded.length, 10);
    assert.ok(excluded.every((key) => !sample.includes(key)));
  });

  it('selects all matching records when a count sample asks for more than there are', () => {
    assert.deepEqual(select({ sample: { count: 10 } }, numbered(4)).final, ['1', '2', '3', '4']);
  });

  it('refuses a sample with neither a count nor a percent', () => {
    assert.throws(
      () => createSubsetFilter({ sample: { seed: 1 } }, { baseDir: '.' }),
      /subset\.sample needs a count or a percent/,
    );
  });
});
