import { strict as assert } from 'node:assert';
import { requestText, shellQuote } from '../../media/renderer/requestText';

describe('renderer request text', () => {
  it('shows an HTTP request as on the wire, a JSON body indented and said to be sent compact', () => {
    const text = requestText({
      type: 'http',
      method: 'POST',
      url: 'http://127.0.0.1:8080/orders/ORD-1/resend',
      headers: { Authorization: 'Bearer [redacted:TOKEN]', 'Content-Type': 'application/json' },
      body: '{"orderId":"ORD-1","amount":12.5}',
    });
    assert.equal(
      text,
      [
        'POST http://127.0.0.1:8080/orders/ORD-1/resend',
        'Authorization: Bearer [redacted:TOKEN]',
        'Content-Type: application/json',
        '',
        '{',
        '  "orderId": "ORD-1",',
        '  "amount": 12.5',
        '}',
        '(pretty-printed here; sent compact, 33 bytes)',
      ].join('\n'),
    );
  });

  it('shows a body that is not a JSON object or list exactly as it is sent', () => {
    for (const body of ['orderId=ORD-1&amount=12.5', '{"unterminated":', '"a string"']) {
      const text = requestText({ type: 'http', method: 'POST', url: 'http://x/1', headers: {}, body });
      assert.equal(text, `POST http://x/1\n\n${body}`);
    }
  });

  it('shows a request without a body without a blank line', () => {
    assert.equal(
      requestText({ type: 'http', method: 'DELETE', url: 'http://x/1', headers: {} }),
      'DELETE http://x/1',
    );
  });

  it('quotes command arguments so their boundaries are unambiguous', () => {
    const text = requestText({
      type: 'command',
      mode: 'record',
      argv: ['./resend', '--id', "O'Brien & Co", ''],
      env: { BACKFILL_IDEMPOTENCY_KEY: 'abc123' },
      stdin: '{"id":"1"}',
    });
    assert.equal(
      text,
      ['BACKFILL_IDEMPOTENCY_KEY=abc123', "$ ./resend --id 'O'\\''Brien & Co' ''", 'stdin: {"id":"1"}'].join(
        '\n',
      ),
    );
  });

  it('shows a module call and what its dryRun export returned', () => {
    const text = requestText({
      type: 'module',
      path: 'handlers/reprice.ts',
      export: 'default',
      dryRun: { price: 9 },
    });
    assert.equal(
      text,
      'handlers/reprice.ts → default(record, context)\ndryRun returned:\n{\n  "price": 9\n}',
    );
  });

  it('shows a SQL statement with its bound values and the plan, as the CLI prints them', () => {
    const text = requestText({
      type: 'sql',
      statement: 'UPDATE orders SET total = :amount WHERE id = :id\n',
      params: { amount: '2.5', id: 1 },
      plan: ['Update on orders', '  ->  Index Scan using orders_pkey on orders'],
      rowsAffected: 1,
    });
    assert.equal(
      text,
      [
        'UPDATE orders SET total = :amount WHERE id = :id',
        'params: {"amount":"2.5","id":1}',
        'plan: Update on orders',
        'plan:   ->  Index Scan using orders_pkey on orders',
        'rows affected (rolled back): 1',
      ].join('\n'),
    );
  });

  it('shows a queue message with its exchange, routing key and message_id, and a hidden bidi override revealed', () => {
    const text = requestText({
      type: 'amqp',
      exchange: 'orders',
      routingKey: 'order.\u202Eo1',
      messageId: '28256431f03f21d1832587c2955d8a17',
      body: '{"id":"o1","amount":1}',
      persistent: true,
    });
    assert.equal(
      text,
      [
        'publish exchange "orders" routing key order.\\u{202e}o1 message_id 28256431f03f21d1832587c2955d8a17',
        '{"id":"o1","amount":1}',
      ].join('\n'),
    );
  });

  it('reveals a bidi override hidden in a record value', () => {
    const text = requestText({ type: 'http', method: 'GET', url: 'http://x/\u202Egnp.exe', headers: {} });
    assert.equal(text, 'GET http://x/\\u{202e}gnp.exe');
  });

  it('leaves safe shell words bare', () => {
    assert.equal(shellQuote('--rate=50'), '--rate=50');
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote('$(rm -rf /)'), "'$(rm -rf /)'");
  });
});
