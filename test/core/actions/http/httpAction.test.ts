import { strict as assert } from 'node:assert';
import { compileAction } from '../../../../src/core/actions/preview';
import { TRAVERSAL_KEY, actionSpec, previewOf, reasonOf, record, renderContext } from '../helpers';

const BASE_DIR = __dirname;

function httpAction(spec: Record<string, unknown>) {
  return compileAction(actionSpec({ type: 'http', ...spec }), { baseDir: BASE_DIR });
}

const RESEND = httpAction({
  url: '${env:BASE_URL}/orders/${record:id}/resend',
  headers: { Authorization: 'Bearer ${secret:ORDERS_TOKEN}', 'X-Note': '${record:note}' },
  body: {
    id: '${record:id}',
    amount: '${record:amount}',
    customer: '${record:customer}',
    label: 'order ${record:id}',
    literal: 'price: $${amount}',
    fixed: [1, true, null],
  },
});

const HOSTILE_KEYS = [TRAVERSAL_KEY, `${TRAVERSAL_KEY}"},"admin":true,"x":"`, `${TRAVERSAL_KEY}\n\r"\\`];

describe('http action preview', () => {
  it('renders method, url, headers and a JSON body exactly as they would be sent', () => {
    const preview = previewOf(
      RESEND.render(record({ id: 'A-1', note: 'hi', amount: 12.5, customer: { id: 9 } }), renderContext()),
    );
    assert.deepEqual(preview, {
      type: 'http',
      method: 'POST',
      url: 'https://api.example.com/orders/A-1/resend',
      headers: {
        Authorization: 'Bearer tok-123456',
        'X-Note': 'hi',
        'Content-Type': 'application/json',
      },
      body: '{"id":"A-1","amount":12.5,"customer":{"id":9},"label":"order A-1","literal":"price: ${amount}","fixed":[1,true,null]}',
    });
  });

  it('keeps the type of a body leaf that is exactly one placeholder', () => {
    const preview = previewOf(
      RESEND.render(
        record({ id: 7, note: '', amount: 0, customer: { id: 9, tags: ['a'] } }),
        renderContext(),
      ),
    );
    const body = JSON.parse(preview.type === 'http' ? (preview.body ?? '') : '') as Record<string, unknown>;
    assert.equal(body.id, 7);
    assert.equal(body.amount, 0);
    assert.deepEqual(body.customer, { id: 9, tags: ['a'] });
    assert.equal(body.label, 'order 7');
  });

  for (const key of HOSTILE_KEYS) {
    it(`keeps the hostile key ${JSON.stringify(key)} in one path segment and one JSON string`, () => {
      const preview = previewOf(
        RESEND.render(record({ id: key, note: 'n', amount: 1, customer: {} }), renderContext()),
      );
      assert.equal(preview.type, 'http');
      if (preview.type !== 'http') return;
      const segments = new URL(preview.url).pathname.split('/');
      assert.deepEqual(segments.length, 4);
      assert.equal(decodeURIComponent(segments[2] ?? ''), key);
      const body = JSON.parse(preview.body ?? '') as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['id', 'amount', 'customer', 'label', 'literal', 'fixed']);
      assert.equal(body.id, key);
      assert.equal(body.label, `order ${key}`);
    });
  }

  it('refuses a record whose key is .. with the field and the reason', () => {
    const reason = reasonOf(
      RESEND.render(record({ id: '..', note: 'n', amount: 1, customer: {} }), renderContext()),
    );
    assert.equal(reason, 'field id: ".." cannot be used as a URL path segment');
  });

  it('refuses a record whose header value contains CR or LF', () => {
    const reason = reasonOf(
      RESEND.render(
        record({ id: 'A', note: 'x\r\nX-Admin: true', amount: 1, customer: {} }),
        renderContext(),
      ),
    );
    assert.match(reason, /^header X-Note: field note: .*carriage return \(CR\)/);
  });

  it('adds the Idempotency-Key header when a key is given', () => {
    const preview = previewOf(
      RESEND.render(
        record({ id: 'A', note: 'n', amount: 1, customer: {} }),
        renderContext({ idempotencyKey: 'k-1' }),
      ),
    );
    assert.equal(preview.type === 'http' && preview.headers['Idempotency-Key'], 'k-1');
  });

  it('keeps an Idempotency-Key header the runbook sets itself', () => {
    const action = httpAction({
      url: 'https://x.example/${record:id}',
      headers: { 'idempotency-key': 'own-${record:id}' },
    });
    const preview = previewOf(action.render(record({ id: 'A' }), renderContext({ idempotencyKey: 'k-1' })));
    assert.deepEqual(preview.type === 'http' && preview.headers, { 'idempotency-key': 'own-A' });
  });

  it('sends no body and no Content-Type when the spec has no body', () => {
    const action = httpAction({ method: 'DELETE', url: 'https://x.example/o/${record:id}' });
    assert.deepEqual(previewOf(action.render(record({ id: 3 }), renderContext())), {
      type: 'http',
      method: 'DELETE',
      url: 'https://x.example/o/3',
      headers: {},
    });
  });

  it('lists the fields, env names and secrets the whole spec references', () => {
    assert.deepEqual(RESEND.references, {
      recordFields: ['amount', 'customer', 'id', 'note'],
      envNames: ['BASE_URL'],
      secretNames: ['ORDERS_TOKEN'],
    });
  });

  it('reports template errors as issues naming the field and refuses every record with them', () => {
    const action = httpAction({
      url: 'https://x.example/${key}',
      headers: { 'Bad Header': 'x' },
      body: { items: ['${foo:x}'] },
    });
    assert.deepEqual(
      action.issues.map((issue) => issue.field),
      ['url', 'headers.Bad Header', 'body.items[0]'],
    );
    assert.match(action.issues[0]?.message ?? '', /unknown placeholder \$\{key\}.*\(column 19\)/);
    assert.match(
      reasonOf(action.render(record({ id: 1 }), renderContext())),
      /^the action is invalid: url: /,
    );
  });

  it('reports a body on a GET request as an issue', () => {
    const action = httpAction({ method: 'GET', url: 'https://x.example/', body: { a: 1 } });
    assert.deepEqual(action.issues, [
      { field: 'body', message: 'a GET request cannot have a body: use POST, PUT or PATCH' },
    ]);
  });

  it('previews exactly what render returns, without sending anything', async () => {
    const context = renderContext();
    const input = record({ id: 'A', note: 'n', amount: 1, customer: {} });
    assert.deepEqual(await RESEND.preview(input, context), RESEND.render(input, context));
  });
});
