import assert from 'node:assert/strict';
import type { FieldSpec } from '../../../src/core/format/schemas';
import { RecordValidator } from '../../../src/core/sources/recordValidator';
import type { SourceItem } from '../../../src/core/model/types';
import { UserError } from '../../../src/core/model/types';
import { sourceSpec } from './helpers';

const record = (line: number, fields: Record<string, unknown>): SourceItem => ({
  kind: 'record',
  line,
  fields,
});

function validator(fields: Record<string, unknown> = {}, key = 'order_id'): RecordValidator {
  return new RecordValidator(sourceSpec({ type: 'inline', records: [], key, fields }));
}

/** The reason a single record is rejected for, or undefined when it is valid. */
function reasonFor(fields: Record<string, unknown>, values: Record<string, unknown>): string | undefined {
  return validator(fields).check(record(1, { order_id: 'k1', ...values })).rejected?.reason;
}

describe('RecordValidator', () => {
  it('types declared CSV strings and passes undeclared fields through untouched', () => {
    const checked = validator({ amount: 'number', qty: 'integer', gift: 'boolean', note: 'string' }).check(
      record(2, { order_id: '17', amount: '12.50', qty: ' 3 ', gift: 'TRUE', note: 'hi', extra: '007' }),
    );
    assert.deepEqual(checked.valid, {
      key: '17',
      line: 2,
      fields: { order_id: '17', amount: 12.5, qty: 3, gift: true, note: 'hi', extra: '007' },
    });
  });

  it('accepts values that already have the declared type, and numbers for string fields', () => {
    const checked = validator({ amount: 'number', qty: 'integer', gift: 'boolean', sku: 'string' }).check(
      record(2, { order_id: 17, amount: 1e3, qty: -4, gift: false, sku: 123 }),
    );
    assert.deepEqual(checked.valid?.fields, { order_id: 17, amount: 1000, qty: -4, gift: false, sku: '123' });
    assert.equal(checked.valid?.key, '17');
  });

  it('rejects values that are not of the declared type, quoting the value', () => {
    assert.equal(
      reasonFor({ amount: 'number' }, { amount: '12,5' }),
      'field amount: expected a number, got "12,5"',
    );
    assert.equal(
      reasonFor({ amount: 'number' }, { amount: '0x1F' }),
      'field amount: expected a number, got "0x1F"',
    );
    assert.equal(
      reasonFor({ amount: 'number' }, { amount: 'Infinity' }),
      'field amount: expected a number, got "Infinity"',
    );
    assert.equal(reasonFor({ qty: 'integer' }, { qty: '1.5' }), 'field qty: expected an integer, got "1.5"');
    assert.equal(reasonFor({ qty: 'integer' }, { qty: 2.5 }), 'field qty: expected an integer, got 2.5');
    assert.equal(
      reasonFor({ gift: 'boolean' }, { gift: 'yes' }),
      'field gift: expected true or false, got "yes"',
    );
    assert.equal(
      reasonFor({ note: 'string' }, { note: { a: 1 } }),
      'field note: expected a string, got object',
    );
    assert.equal(reasonFor({ tags: 'string' }, { tags: ['a'] }), 'field tags: expected a string, got array');
  });

  it('rejects an integer too large to be exact instead of rounding it', () => {
    assert.equal(
      reasonFor({ qty: 'integer' }, { qty: '9007199254740993' }),
      'field qty: "9007199254740993" is too large to be exact as a number; declare the field as a string',
    );
  });

  it('rejects decimal text too large for a number instead of turning it into Infinity', () => {
    assert.equal(
      reasonFor({ amount: 'number' }, { amount: '1e999' }),
      'field amount: "1e999" is too large for a number; declare the field as a string',
    );
    assert.match(
      reasonFor({ amount: 'number' }, { amount: '9'.repeat(400) }) ?? '',
      /too large for a number/,
    );
  });

  it('quotes only the start of a long value, so a 10 MB cell is not copied into its reason', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    assert.equal(
      reasonFor({ amount: 'number' }, { amount: huge }),
      `field amount: expected a number, got "${'x'.repeat(57)}..."`,
    );
    const pattern = { code: { type: 'string', pattern: '^[0-9]+$' } };
    assert.ok((reasonFor(pattern, { code: huge }) ?? '').length < 200);
  });

  it('rejects a missing required field, and treats an empty optional one as absent', () => {
    const fields = {
      email: 'string',
      phone: { type: 'string', required: false },
      age: { type: 'integer', required: false },
    };
    assert.equal(reasonFor(fields, { phone: '1' }), 'field email: required but missing');
    assert.equal(reasonFor(fields, { email: '', phone: '1' }), 'field email: required but missing');
    assert.equal(reasonFor(fields, { email: null }), 'field email: required but missing');
    const checked = validator(fields).check(record(3, { order_id: 'k', email: 'a@b.c', phone: '', age: '' }));
    assert.deepEqual(checked.valid?.fields, { order_id: 'k', email: 'a@b.c' });
  });

  it('checks a pattern against the text of the typed value', () => {
    const sku = { type: 'string', pattern: '^[A-Z]+$' };
    assert.equal(reasonFor({ sku }, { sku: 'x' }), 'field sku: "x" does not match pattern ^[A-Z]+$');
    assert.equal(reasonFor({ sku }, { sku: 'ABC' }), undefined);
    assert.equal(
      reasonFor({ n: { type: 'integer', pattern: '^\\d{3}$' } }, { n: '12' }),
      'field n: "12" does not match pattern ^\\d{3}$',
    );
  });

  it('lists every problem of a record in one reason, the key first', () => {
    const checked = validator({ amount: 'number', email: 'string' }).check(record(9, { amount: 'abc' }));
    assert.deepEqual(checked.rejected, {
      line: 9,
      reason:
        'missing key field order_id; field amount: expected a number, got "abc"; field email: required but missing',
    });
  });

  it('keeps the key on a record rejected for another field', () => {
    const checked = validator({ amount: 'number' }).check(record(4, { order_id: 'A-1', amount: 'n/a' }));
    assert.deepEqual(checked.rejected, {
      line: 4,
      key: 'A-1',
      reason: 'field amount: expected a number, got "n/a"',
    });
  });

  it('rejects keys that are missing, empty, structured, or numbers too large to be exact', () => {
    const reason = (value: unknown) => validator().check(record(1, { order_id: value })).rejected?.reason;
    assert.equal(reason(undefined), 'missing key field order_id');
    assert.equal(reason(''), 'missing key field order_id');
    assert.equal(reason({ id: 1 }), 'key field order_id: expected a string or a number, got object');
    assert.equal(reason([1]), 'key field order_id: expected a string or a number, got array');
    assert.equal(reason(true), 'key field order_id: expected a string or a number, got boolean');
    assert.equal(
      reason(2 ** 64),
      'key field order_id: 18446744073709552000 is too large to be exact; write it as a string in the source',
    );
  });

  it('reports a declared key field that is missing once, as a missing key', () => {
    assert.equal(
      validator({ order_id: 'integer' }).check(record(1, {})).rejected?.reason,
      'missing key field order_id',
    );
  });

  it('keeps the first record of a key and reports later ones as duplicates of its line', () => {
    const check = validator({ order_id: 'integer' });
    assert.equal(check.check(record(2, { order_id: '7' })).valid?.key, '7');
    assert.ok(check.check(record(3, { order_id: '8' })).valid);
    assert.deepEqual(check.check(record(5, { order_id: 7 })).duplicate, { key: '7', line: 5, firstLine: 2 });
    assert.deepEqual(check.check(record(6, { order_id: '7' })).duplicate, {
      key: '7',
      line: 6,
      firstLine: 2,
    });
  });

  it('does not let a rejected record claim its key', () => {
    const check = validator({ amount: 'number' });
    assert.ok(check.check(record(2, { order_id: 'a', amount: 'x' })).rejected);
    assert.ok(check.check(record(3, { order_id: 'a', amount: '1' })).valid);
  });

  it('passes on items the source rejected, and counts every verdict', () => {
    const check = validator();
    assert.deepEqual(check.check({ kind: 'rejected', line: 4, reason: 'invalid JSON: oops' }).rejected, {
      line: 4,
      reason: 'invalid JSON: oops',
    });
    check.check(record(5, { order_id: 'a' }));
    check.check(record(6, { order_id: 'a' }));
    check.check(record(7, {}));
    assert.deepEqual(check.counts, { checked: 4, valid: 1, rejected: 2, duplicates: 1 });
  });

  it('refuses an invalid pattern when built, even from a spec that skipped the runbook schema', () => {
    const spec = sourceSpec({ type: 'inline', records: [], key: 'order_id' });
    const fields = { sku: { type: 'string' as const, required: true, pattern: '([A-Z' } };
    assert.throws(
      () => new RecordValidator({ ...spec, fields }),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /^field sku: invalid pattern \(\[A-Z: /);
        return true;
      },
    );
  });

  it('keeps a field named __proto__ as data, declared or not', () => {
    const fields = JSON.parse('{"order_id": "k", "__proto__": "12"}') as Record<string, unknown>;
    const passedThrough = validator().check(record(1, fields)).valid?.fields;
    assert.equal(Object.getPrototypeOf(passedThrough), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(passedThrough, '__proto__')?.value, '12');
    // zod drops such a key from a runbook, so build the declaration by hand to cover typing it too.
    const declared = JSON.parse('{"__proto__": {"type": "integer", "required": false}}') as Record<
      string,
      FieldSpec
    >;
    const typing = new RecordValidator({ key: 'order_id', fields: declared });
    const typed = typing.check(record(1, fields)).valid?.fields;
    assert.equal(Object.getPrototypeOf(typed), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(typed, '__proto__')?.value, 12);
    assert.deepEqual(typing.check(record(2, { order_id: 'j' })).valid?.fields, { order_id: 'j' });
  });

  describe('a source kind whose keys are unique as read (postgres)', () => {
    const postgres = (fields: Record<string, unknown> = {}, keysRemembered = 3) =>
      new RecordValidator(
        sourceSpec({ type: 'postgres', url: 'postgresql://h/db', query: 'SELECT id FROM t', fields }),
        { keysRemembered },
      );

    it('remembers no key and never asks for a pass for repeated keys', () => {
      const plain = new RecordValidator(sourceSpec({ type: 'inline', records: [] }), { keysRemembered: 3 });
      const unique = postgres();
      for (let i = 1; i <= 10; i++) {
        plain.check(record(i, { id: i }));
        assert.ok(unique.check(record(i, { id: i })).valid);
      }
      assert.equal(plain.needsRepeatedKeys, true, 'another kind asks for the pass past its limit');
      assert.equal(unique.needsRepeatedKeys, false);
      assert.equal((unique as unknown as { firstLineOfKey: Map<string, number> }).firstLineOfKey.size, 0);
    });

    it('refuses a typed key whose text typing changes, which could merge two keys', () => {
      const typed = postgres({ id: 'integer' });
      assert.equal(typed.check(record(1, { id: '1' })).valid?.key, '1');
      assert.match(
        typed.check(record(2, { id: '01' })).rejected?.reason ?? '',
        /the key "01" reads as "1" as integer, so two keys could become one: declare the key as string/,
      );
    });
  });
});
