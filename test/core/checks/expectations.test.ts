import { strict as assert } from 'node:assert';
import { SecretResolver } from '../../../src/core/secrets/secrets';
import {
  compareFields,
  compileExpectations,
  readPath,
  sameValue,
  type CompiledExpectations,
} from '../../../src/core/checks/expectations';

function compiled(expectations: Record<string, unknown>): CompiledExpectations {
  const result = compileExpectations(expectations, 'expect.body');
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.expectations;
}

const values = (record: Record<string, unknown>) => ({
  record,
  env: { REGION: 'eu' },
  secrets: new SecretResolver({}),
});

describe('verify expectations', () => {
  it('renders a whole-placeholder expectation with the record value and its type, constants as written', () => {
    const rendered = compiled({ amount: '${record:amount}', region: '${env:REGION}', sent: true }).render(
      values({ amount: 4.5 }),
    );
    assert.deepEqual(rendered, {
      ok: true,
      value: [
        ['amount', 4.5],
        ['region', 'eu'],
        ['sent', true],
      ],
    });
  });

  it('cannot render the expectations of a record that lacks a field they name', () => {
    const rendered = compiled({ amount: '${record:amount}' }).render(values({}));
    assert.deepEqual(rendered, {
      ok: false,
      reason: 'expected amount: field amount is missing from the record',
    });
  });

  it('reports a template error at its field path', () => {
    const result = compileExpectations({ 'customer.email': '${record:email' }, 'expect.body');
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.issues[0]?.field, 'expect.body.customer.email');
  });

  it('compares numbers within the tolerance, and a number with the same number written as text', () => {
    assert.ok(sameValue(4.5, 4.5004, 0.001));
    assert.ok(!sameValue(4.5, 4.502, 0.001));
    assert.ok(sameValue(4.5, '4.5', 0));
    assert.ok(sameValue('10', 10, 0));
    assert.ok(!sameValue('1.0', '1', 0), 'two texts are compared as texts');
    assert.ok(!sameValue(0, '', 0), 'an empty text is not zero');
    assert.ok(!sameValue(true, 'true', 0));
  });

  it('matches an expected object field by field, ignoring fields it does not name, and arrays element by element', () => {
    assert.ok(sameValue({ status: 'sent' }, { status: 'sent', at: 'now' }, 0));
    assert.ok(!sameValue({ status: 'sent' }, { status: 'queued' }, 0));
    assert.ok(sameValue([1, 2], [1, 2.0001], 0.001));
    assert.ok(!sameValue([1, 2], [1, 2, 3], 0));
    assert.ok(sameValue(null, null, 0));
    assert.ok(!sameValue(null, undefined, 0));
  });

  it('reads a flat name before a dotted path, and never reaches into prototypes', () => {
    assert.equal(readPath({ 'a.b': 1, a: { b: 2 } }, 'a.b'), 1);
    assert.equal(readPath({ a: { b: 2 } }, 'a.b'), 2);
    assert.equal(readPath({}, 'constructor'), undefined);
    assert.equal(readPath({ a: {} }, 'a.toString'), undefined);
    assert.equal(readPath('text', 'length'), undefined);
  });

  it('names every differing field with expected and actual, and only those', () => {
    const verdict = compareFields(
      [
        ['amount', 4.5],
        ['state.confirmed', true],
        ['id', 'k1'],
      ],
      { amount: 5, id: 'k1', state: {} },
      0,
    );
    assert.deepEqual(verdict, {
      status: 'mismatch',
      detail: 'amount: expected 4.5, got 5; state.confirmed: expected true, got nothing (no such field)',
      expected: { amount: 4.5, 'state.confirmed': true },
      actual: { amount: 5 },
    });
    assert.deepEqual(compareFields([['id', 'k1']], { id: 'k1' }, 0), { status: 'verified' });
  });
});
