import assert from 'node:assert/strict';
import { CheckSchema, checkKinds, describeCheck } from '../../../src/core/checks/checkKinds';
import { VerifyCellSchema } from '../../../src/core/format/schemas';
import { itChecksEveryRegisteredKind } from '../kindRegistry';

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
  postgres: {
    type: 'postgres',
    url: '${secret:DB_URL}',
    query: 'SELECT total FROM orders WHERE id = :id',
    expect: { columns: { total: '${record:total}' } },
  },
};

const VARS = { BASE_URL: 'https://api.example.com', REGION: 'eu' };

describe('check kinds', () => {
  itChecksEveryRegisteredKind({
    kinds: checkKinds,
    union: CheckSchema,
    cellField: VerifyCellSchema.shape.check,
    examples: EXAMPLES,
  });

  for (const kind of checkKinds) {
    describe(`the ${kind.type} kind`, () => {
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
        'query "SELECT total FROM orders WHERE id = :id" on PostgreSQL',
      ],
    );
  });
});
