import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RecordValidator } from '../../../src/core/sources/recordValidator';
import { findRepeatedKeys, keysAtLines, type KeyAtLine } from '../../../src/core/sources/repeatedKeys';
import { readRepeatedKeys, writeRepeatedKeys } from '../../../src/core/sources/repeatedKeysCache';
import { findRepeatedNumbers } from '../../../src/core/sources/repeatedHashes';
import type { SourceItem } from '../../../src/core/model/types';
import { sourceSpec } from './helpers';

/** A seeded source of `size` items: keys drawn from a smaller pool (so some repeat), odd keys, bad rows. */
function source(size: number, seed: number): SourceItem[] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state;
  };
  const items: SourceItem[] = [];
  for (let line = 2; line < size + 2; line += 1) {
    const roll = next() % 100;
    if (roll === 0) items.push({ kind: 'rejected', line, reason: 'unclosed quote' });
    else if (roll === 1) items.push({ kind: 'record', line, fields: { id: '', amount: '1' } });
    else if (roll === 2) items.push({ kind: 'record', line, fields: { id: `k${next() % 40}`, amount: 'x' } });
    else if (roll === 3)
      items.push({ kind: 'record', line, fields: { id: 'tab\there\nand "quote"', amount: '1' } });
    else if (roll === 4) items.push({ kind: 'record', line, fields: { id: 7, amount: '2' } });
    else if (roll === 5) items.push({ kind: 'record', line, fields: { id: '7', amount: '2' } });
    else items.push({ kind: 'record', line, fields: { id: `k${next() % (size * 2)}`, amount: `${roll}` } });
  }
  return items;
}

const spec = sourceSpec({
  type: 'inline',
  records: [],
  key: 'id',
  fields: { id: 'string', amount: 'number' },
});

/** Every verdict a validator gives a source, switching to the repeated keys when it asks. */
async function verdicts(items: SourceItem[], options: { keysRemembered?: number; runSize?: number }) {
  const validator = new RecordValidator(spec, options);
  const out: unknown[] = [];
  let asked = 0;
  for (const item of items) {
    if (validator.needsRepeatedKeys) {
      asked += 1;
      const pairs = () => keysAtLines(iterate(items), (each) => validator.keyOf(each));
      validator.useRepeatedKeys(await findRepeatedKeys(pairs, { runSize: options.runSize ?? 1000 }));
    }
    out.push(validator.check(item));
  }
  return { out, counts: validator.counts, asked };
}

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/** The repeated keys the plain way: a Map of every key. */
function reference(pairs: KeyAtLine[]): Map<string, number[]> {
  const lines = new Map<string, number[]>();
  for (const { key, line } of pairs) lines.set(key, [...(lines.get(key) ?? []), line]);
  return new Map([...lines].filter(([, found]) => found.length > 1));
}

describe('repeated keys in bounded memory', () => {
  it('finds exactly the keys on several lines, with their lines, through sorted runs of hashes spilled to disk', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'repeated-keys-test-'));
    try {
      const pairs: KeyAtLine[] = [];
      for (let line = 0; line < 5000; line += 1) pairs.push({ key: `k${(line * 7919) % 3700}`, line });
      pairs.push(
        { key: 'new\nline\t"', line: 6000 },
        { key: 'new\nline\t"', line: 6001 },
        { key: '', line: 6002 },
      );
      let spilled: number | undefined;
      // Looks into the temporary folder once every pair was first read: the full runs are on disk by then.
      function* watched() {
        yield* pairs;
        spilled ??= fs
          .readdirSync(tmp)
          .reduce((n, folder) => n + fs.readdirSync(path.join(tmp, folder)).length, 0);
      }
      const found = await findRepeatedKeys(watched, { runSize: 300, tmpDir: tmp });
      assert.deepEqual(found, reference(pairs));
      assert.ok(found.size > 1000, `${found.size} repeated keys`);
      assert.equal(spilled, Math.floor(pairs.length / 300), 'every full run was written to disk');
      assert.deepEqual(fs.readdirSync(tmp), [], 'the runs are removed');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('holds a small source in one run in memory, and finds no repeat where there is none', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'repeated-keys-test-'));
    try {
      const pairs = [3, 1, 2].map((n) => ({ key: `k${n}`, line: n }));
      let reads = 0;
      const read = () => {
        reads += 1;
        return pairs;
      };
      assert.deepEqual(await findRepeatedKeys(read, { tmpDir: tmp }), new Map());
      assert.equal(reads, 1, 'a source without repeated hashes is read once');
      assert.deepEqual(
        await findRepeatedKeys(() => [...pairs, { key: 'k1', line: 9 }], { tmpDir: tmp, runSize: 10 }),
        new Map([['k1', [1, 9]]]),
      );
      assert.deepEqual(fs.readdirSync(tmp), []);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('never invents a repeat when different keys share a hash, and never misses one', async () => {
    const pairs: KeyAtLine[] = [];
    for (let line = 1; line <= 3000; line += 1) pairs.push({ key: `k${(line * 7919) % 2600}`, line });
    pairs.push({ key: 'once', line: 4000 }, { key: '', line: 4001 }, { key: '', line: 4002 });
    const expected = reference(pairs);
    assert.ok(expected.size > 100 && !expected.has('once'));
    // Every key on one hash, and keys hashed by their length: all candidates, sorted out by the key itself.
    for (const hash of [() => 7, (key: string) => key.length]) {
      assert.deepEqual(await findRepeatedKeys(() => pairs, { hash, runSize: 128 }), expected);
    }
    // Lines come back in ascending order even when the pairs are read in another.
    const shuffled = [...pairs].reverse();
    assert.deepEqual(await findRepeatedKeys(() => shuffled, { runSize: 100 }), expected);
  });

  it('merges more runs than it may open at once in several levels, and removes every file', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'repeated-keys-test-'));
    try {
      const values: number[] = [];
      for (let n = 0; n < 5000; n += 1) values.push((n * 7919) % 4700);
      let seen = 0;
      const found = await findRepeatedNumbers(values, (value) => value, {
        runSize: 37,
        fanIn: 3,
        tmpDir: tmp,
      });
      const expected = new Set(values.filter((value, at) => values.indexOf(value) !== at));
      assert.deepEqual(
        [...found].sort((a, b) => a - b),
        [...expected].sort((a, b) => a - b),
      );
      assert.equal(expected.size, 300);
      for (const value of [0.5, -3, 2 ** 52 - 1])
        seen += (await findRepeatedNumbers([value, 1, value], (v) => v)).has(value) ? 1 : 0;
      assert.equal(seen, 3);
      assert.deepEqual(fs.readdirSync(tmp), [], 'the runs are removed');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('gives the same verdict on every line whether a validator remembers every key or only the repeated ones', async () => {
    const items = source(6000, 42);
    const everyKey = await verdicts(items, {});
    const bounded = await verdicts(items, { keysRemembered: 500, runSize: 700 });
    assert.equal(everyKey.asked, 0);
    assert.equal(bounded.asked, 1, 'the bounded validator asked for the repeated keys once');
    assert.deepEqual(bounded.out, everyKey.out);
    assert.deepEqual(bounded.counts, everyKey.counts);
    assert.ok(
      everyKey.counts.duplicates > 100 && everyKey.counts.rejected > 100,
      JSON.stringify(everyKey.counts),
    );
    const duplicate = everyKey.out.find((verdict) => (verdict as { duplicate?: unknown }).duplicate);
    assert.ok(duplicate, 'the source has duplicates');
  });

  it('derives the key a full check gives, typed, for valid and malformed records alike', () => {
    const validator = new RecordValidator(
      sourceSpec({ type: 'inline', records: [], key: 'id', fields: { id: 'integer', amount: 'number' } }),
    );
    const keyOf = (fields: Record<string, unknown>) => validator.keyOf({ kind: 'record', line: 2, fields });
    assert.equal(keyOf({ id: '007', amount: '1' }), '7');
    assert.equal(keyOf({ id: '007', amount: 'x' }), '7');
    assert.equal(keyOf({ id: 'abc', amount: '1' }), 'abc');
    assert.equal(keyOf({ id: '', amount: '1' }), undefined);
    assert.equal(validator.keyOf({ kind: 'rejected', line: 3, reason: 'bad' }), undefined);
    for (const fields of [
      { id: '007', amount: 'x' },
      { id: 'abc', amount: '1' },
    ]) {
      const checked = validator.check({ kind: 'record', line: 2, fields });
      assert.equal(checked.rejected?.key, keyOf(fields));
    }
  });

  it('keeps the repeated keys of one fingerprint in the state folder, and none for another', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'repeated-keys-test-'));
    try {
      const file = path.join(tmp, 'repeated-keys.json');
      assert.equal(await readRepeatedKeys(file, 'fp-1'), undefined);
      await writeRepeatedKeys(file, 'fp-1', new Map([['a', [2, 9]]]));
      assert.deepEqual(await readRepeatedKeys(file, 'fp-1'), new Map([['a', [2, 9]]]));
      assert.equal(await readRepeatedKeys(file, 'fp-2'), undefined);
      fs.writeFileSync(file, '{ broken');
      assert.equal(await readRepeatedKeys(file, 'fp-1'), undefined);
      assert.deepEqual(fs.readdirSync(tmp), ['repeated-keys.json']);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
