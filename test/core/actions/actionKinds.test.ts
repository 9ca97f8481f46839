import assert from 'node:assert/strict';
import {
  actionKinds,
  describeAction,
  previewLines,
  recordsPerAttempt,
} from '../../../src/core/actions/actionKinds';
import { ActionSchema, JobCellSchema } from '../../../src/core/format/schemas';
import { itChecksEveryRegisteredKind } from '../kindRegistry';
import { actionSpec, record, renderContext } from './helpers';

/** One valid spec per kind, with a `${env:…}` placeholder: a kind registered without one here fails. */
const EXAMPLES: Record<string, Record<string, unknown>> = {
  http: {
    type: 'http',
    method: 'PUT',
    url: '${env:BASE_URL}/orders/${record:id}',
    body: { id: '${record:id}' },
  },
  command: {
    type: 'command',
    argv: ['./resend.sh', '--base=${env:BASE_URL}', '${record:id}'],
    mode: 'batch',
  },
  module: { type: 'module', path: 'handlers/resend.ts', export: 'resend' },
  sql: {
    type: 'sql',
    url: '${secret:DB_URL}',
    statement: 'UPDATE orders SET touched_at = now() WHERE id = :id',
  },
  amqp: {
    type: 'amqp',
    url: '${secret:AMQP_URL}',
    exchange: 'orders',
    routingKey: 'orders.${record:id}',
    body: { id: '${record:id}', source: '${env:BASE_URL}' },
  },
};

const VARS = { BASE_URL: 'https://api.example.com' };

describe('action kinds', () => {
  itChecksEveryRegisteredKind({
    kinds: actionKinds,
    union: ActionSchema,
    cellField: JobCellSchema.shape.action,
    examples: EXAMPLES,
  });

  for (const kind of actionKinds) {
    describe(`the ${kind.type} kind`, () => {
      it('compiles its example, describes its target with env values filled in, and shows its preview', async () => {
        const spec = actionSpec(EXAMPLES[kind.type]!);
        const compiled = kind.compile(spec as never, { baseDir: __dirname });
        assert.deepEqual(compiled.issues, []);
        const target = describeAction(spec, VARS);
        assert.ok(!target.includes('${env:'), target);
        const rendered = compiled.render(record({ id: 7 }), renderContext({ idempotencyKey: 'k-7' }));
        assert.ok(rendered.ok);
        const lines = previewLines(rendered.preview);
        assert.ok(lines.length > 0 && lines.every((line) => line.trim() !== ''), JSON.stringify(lines));
        assert.ok(recordsPerAttempt(spec, 50) >= 1);
      });
    });
  }

  it('describes each target in one wording, whoever asks (plan, confirmation, report)', () => {
    assert.deepEqual(
      actionKinds.map((kind) => describeAction(actionSpec(EXAMPLES[kind.type]!), VARS)),
      [
        'PUT https://api.example.com/orders/${record:id}',
        'command ["./resend.sh","--base=https://api.example.com","${record:id}"]',
        'module handlers/resend.ts (export resend)',
        'SQL UPDATE orders SET touched_at = now() WHERE id = :id',
        'publish to exchange "orders" routing key orders.${record:id}',
      ],
    );
    // Without the environment (the report), configuration placeholders stay as written.
    assert.equal(describeAction(actionSpec(EXAMPLES.http!)), 'PUT ${env:BASE_URL}/orders/${record:id}');
  });

  it('sends records in batches for a command in batch mode, SQL (one transaction) and AMQP (one confirm wait)', () => {
    assert.equal(recordsPerAttempt(actionSpec(EXAMPLES.command!), 50), 50);
    assert.equal(recordsPerAttempt(actionSpec(EXAMPLES.sql!), 50), 50);
    assert.equal(recordsPerAttempt(actionSpec(EXAMPLES.amqp!), 50), 50);
    assert.equal(recordsPerAttempt(actionSpec({ ...EXAMPLES.command, mode: 'record' }), 50), 1);
    assert.equal(recordsPerAttempt(actionSpec(EXAMPLES.http!), 50), 1);
  });
});
