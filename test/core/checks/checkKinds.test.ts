import assert from 'node:assert/strict';
import { CheckSchema, checkKinds, describeCheck } from '../../../src/core/checks/checkKinds';
import { VerifyCellSchema } from '../../../src/core/format/schemas';

/** One valid spec per kind: a kind registered without one here fails. */
const EXAMPLES: Record<string, Record<string, unknown>> = {
  http: {
    type: 'http',
    url: '${env:BASE_URL}/orders/${record:id}',
    expect: { body: { amount: '${record:amount}' } },
  },
  command: { type: 'command', argv: ['./state.sh', '${env:REGION}', '${record:id}'] },
  module: { type: 'module', path: 'checks/order.ts' },
  sqlite: {
    type: 'sqlite',
    path: 'orders.db',
    query: 'SELECT amount FROM orders WHERE id = ?',
    params: ['${record:id}'],
  },
};

const VARS = { BASE_URL: 'https://api.example.com', REGION: 'eu' };

describe('check kinds', () => {
  it('has an example for every registered kind, and each kind a distinct type', () => {
    const types = checkKinds.map((kind) => kind.type);
    assert.equal(new Set(types).size, types.length);
    assert.deepEqual(
      types.filter((type) => !EXAMPLES[type]),
      [],
    );
  });

  it("builds the format's check union from the registry, so no kind is missing from it", () => {
    assert.deepEqual(
      CheckSchema.options,
      checkKinds.map((kind) => kind.schema),
    );
    assert.equal(VerifyCellSchema.shape.check, CheckSchema);
  });

  for (const kind of checkKinds) {
    describe(`the ${kind.type} kind`, () => {
      it("names its schema's type literal", () => {
        assert.equal(kind.schema.shape.type.value, kind.type);
      });

      it('documents every field it takes but type, and no other', () => {
        const own = Object.keys(kind.schema.shape).filter((field) => field !== 'type');
        assert.deepEqual(Object.keys(kind.fieldHelp).sort(), own.sort());
        for (const text of Object.values(kind.fieldHelp)) assert.match(text, /\S/);
      });

      it('compiles its example with no issue and describes it with env values filled in', () => {
        const spec = CheckSchema.parse(EXAMPLES[kind.type]!);
        assert.deepEqual(kind.compile(spec as never).issues, []);
        const target = describeCheck(spec, VARS);
        assert.match(target, /\S/);
        assert.ok(!target.includes('${env:'), target);
      });
    });
  }

  it('describes each check in the same words as the action of the same kind', () => {
    assert.deepEqual(
      checkKinds.map((kind) => describeCheck(CheckSchema.parse(EXAMPLES[kind.type]!), VARS)),
      [
        'GET https://api.example.com/orders/${record:id}',
        'command ["./state.sh","eu","${record:id}"]',
        'module checks/order.ts (export verify)',
        'query "SELECT amount FROM orders WHERE id = ?" on orders.db',
      ],
    );
  });
});
