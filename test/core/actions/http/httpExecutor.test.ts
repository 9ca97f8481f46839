import { strict as assert } from 'node:assert';
import type { HttpPreview } from '../../../../src/core/actions/compiledAction';
import type { HttpExecutor } from '../../../../src/core/actions/http/httpExecutor';
import { createHttpExecutor, executeHttp } from '../../../../src/core/actions/http/httpExecutor';
import type { AttemptResult } from '../../../../src/core/model/runs';
import type { Responder, TestServer } from '../support';
import { Cleanup, closedPort, startServer } from '../support';

/** Node adds these on its own: the host, keep-alive and the body's length. Nothing else may appear. */
const FRAMING_HEADERS = ['connection', 'content-length', 'host'];

function failure(result: AttemptResult): Extract<AttemptResult, { ok: false }> {
  if (result.ok) throw new Error(`expected a failed attempt, got ${JSON.stringify(result)}`);
  return result;
}

describe('HTTP executor', () => {
  const cleanup = new Cleanup();
  let executor: HttpExecutor;

  beforeEach(() => {
    executor = createHttpExecutor({ maxSockets: 2 });
    cleanup.add(() => executor.close());
  });

  afterEach(() => cleanup.run());

  async function serve(respond: Responder): Promise<TestServer> {
    const server = await startServer(respond);
    cleanup.add(() => server.close());
    return server;
  }

  function answer(status: number, body = '', headers: Record<string, string> = {}): Responder {
    return (_request, response) => {
      response.writeHead(status, headers);
      response.end(body);
    };
  }

  function post(server: TestServer, path = '/orders/A-1'): HttpPreview {
    return { type: 'http', method: 'POST', url: `${server.baseUrl}${path}`, headers: {}, body: '{}' };
  }

  it('sends exactly the preview method, path, headers and body', async () => {
    const server = await serve(answer(201));
    const body = JSON.stringify({ id: 'A-1', note: 'é "quoted"\nline' });
    const result = await executor.execute(
      {
        type: 'http',
        method: 'PUT',
        url: `${server.baseUrl}/orders/A%2F1?force=true`,
        headers: {
          'Content-Type': 'application/json',
          Authorization: 'Bearer tok-123456',
          'Idempotency-Key': 'run-1:A-1',
        },
        body,
      },
      { timeoutMs: 5000 },
    );

    assert.deepEqual(result, { ok: true, durationMs: result.durationMs, httpStatus: 201 });
    const [received] = server.requests;
    assert.ok(received);
    assert.equal(received.method, 'PUT');
    assert.equal(received.path, '/orders/A%2F1?force=true');
    assert.equal(received.body, body);
    assert.equal(received.headers['content-type'], 'application/json');
    assert.equal(received.headers.authorization, 'Bearer tok-123456');
    assert.equal(received.headers['idempotency-key'], 'run-1:A-1');
    assert.equal(received.headers['content-length'], String(Buffer.byteLength(body)));
    assert.deepEqual(
      Object.keys(received.headers).sort(),
      ['authorization', 'content-type', 'idempotency-key', ...FRAMING_HEADERS].sort(),
    );
  });

  it('sends a GET without a body or a chunked encoding', async () => {
    const server = await serve(answer(200, 'found'));
    const preview: HttpPreview = {
      type: 'http',
      method: 'GET',
      url: `${server.baseUrl}/orders/A-1`,
      headers: {},
    };
    const result = await executor.execute(preview, { timeoutMs: 5000 });

    assert.equal(result.ok, true);
    const [received] = server.requests;
    assert.equal(received?.method, 'GET');
    assert.equal(received?.body, '');
    assert.equal(received?.headers['transfer-encoding'], undefined);
  });

  it('reads a 429 as retryable overload and honours Retry-After in seconds', async () => {
    const server = await serve(answer(429, 'slow down', { 'Retry-After': '2' }));
    const result = failure(await executor.execute(post(server), { timeoutMs: 5000 }));

    assert.equal(result.kind, 'http-429');
    assert.equal(result.retryable, true);
    assert.equal(result.overload, true);
    assert.equal(result.retryAfterMs, 2000);
    assert.equal(result.httpStatus, 429);
    assert.equal(result.message, 'HTTP 429 Too Many Requests: slow down');
  });

  it('reads a 503 as retryable overload and honours Retry-After as an HTTP date', async () => {
    const inThirtySeconds = new Date(Date.now() + 30_000).toUTCString();
    const server = await serve(answer(503, '', { 'Retry-After': inThirtySeconds }));
    const result = failure(await executor.execute(post(server), { timeoutMs: 5000 }));

    assert.equal(result.kind, 'http-5xx');
    assert.equal(result.retryable, true);
    assert.equal(result.overload, true);
    assert.equal(result.httpStatus, 503);
    // HTTP dates have whole seconds, and a little time passes between writing and reading the header.
    assert.ok(
      result.retryAfterMs !== undefined && result.retryAfterMs > 25_000 && result.retryAfterMs <= 30_000,
      `retryAfterMs was ${result.retryAfterMs}`,
    );
  });

  it('reads a 500 as retryable without overload, with the body start in one line', async () => {
    const server = await serve(answer(500, 'database down\n  at query (db.js:12)\n'));
    const result = failure(await executor.execute(post(server), { timeoutMs: 5000 }));

    assert.equal(result.kind, 'http-5xx');
    assert.equal(result.retryable, true);
    assert.equal(result.overload, false);
    assert.equal(result.retryAfterMs, undefined);
    assert.equal(result.message, 'HTTP 500 Internal Server Error: database down at query (db.js:12)');
  });

  it('reads a 404 as a permanent failure', async () => {
    const server = await serve(answer(404, '{"error":"no such order"}'));
    const result = failure(await executor.execute(post(server), { timeoutMs: 5000 }));

    assert.equal(result.kind, 'http-4xx');
    assert.equal(result.retryable, false);
    assert.equal(result.overload, false);
    assert.equal(result.httpStatus, 404);
    assert.equal(result.message, 'HTTP 404 Not Found: {"error":"no such order"}');
  });

  it('does not follow a redirect and says so', async () => {
    const server = await serve(answer(301, '', { Location: '/elsewhere' }));
    const result = failure(await executor.execute(post(server), { timeoutMs: 5000 }));

    assert.equal(result.kind, 'other');
    assert.equal(result.retryable, false);
    assert.match(result.message, /redirects are not followed/);
    assert.equal(server.requests.length, 1);
  });

  it('reads a large error body to the end, keeps a bounded message and reuses the connection', async () => {
    const server = await serve((request, response) => {
      response.writeHead(request.path === '/big' ? 400 : 200);
      response.end(request.path === '/big' ? 'x'.repeat(1_000_000) : 'ok');
    });
    // One connection at most: the second request can only reuse it if the first body was read to the end.
    const single = createHttpExecutor({ maxSockets: 1 });
    cleanup.add(() => single.close());
    const big = failure(await single.execute(post(server, '/big'), { timeoutMs: 5000 }));
    const next = await single.execute(post(server, '/next'), { timeoutMs: 5000 });

    assert.ok(big.message.length <= 600, `message has ${big.message.length} characters`);
    assert.equal(next.ok, true);
    assert.deepEqual(
      server.requests.map((request) => request.connection),
      [1, 1],
    );
  });

  it('times out a server that never answers', async () => {
    const server = await serve(() => undefined);
    const result = failure(await executor.execute(post(server), { timeoutMs: 200 }));

    assert.equal(result.kind, 'timeout');
    assert.equal(result.retryable, true);
    assert.equal(result.httpStatus, undefined);
  });

  it('times out a response whose body stops half-way, since the deadline covers the body', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'Content-Length': '100' });
      response.write('only the first bytes');
    });
    const result = failure(await executor.execute(post(server), { timeoutMs: 200 }));

    assert.equal(result.kind, 'timeout');
    assert.equal(result.retryable, true);
    assert.equal(result.httpStatus, 200);
  });

  it('reports a refused connection as a retryable connection failure', async () => {
    const port = await closedPort();
    const preview: HttpPreview = {
      type: 'http',
      method: 'POST',
      url: `http://127.0.0.1:${port}/x`,
      headers: {},
    };
    const result = failure(await executor.execute(preview, { timeoutMs: 5000 }));

    assert.equal(result.kind, 'connection');
    assert.equal(result.retryable, true);
    assert.match(result.message, /connection refused/);
  });

  it('reports a connection reset in the middle of the response as a retryable connection failure', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'Content-Length': '1000' });
      response.write('partial', () => response.socket?.destroy());
    });
    const result = failure(await executor.execute(post(server), { timeoutMs: 5000 }));

    assert.equal(result.kind, 'connection');
    assert.equal(result.retryable, true);
    assert.equal(result.httpStatus, 200);
  });

  it('reports a connection closed before any response as a retryable connection failure', async () => {
    const server = await serve((_request, response) => response.socket?.destroy());
    const result = failure(await executor.execute(post(server), { timeoutMs: 5000 }));

    assert.equal(result.kind, 'connection');
    assert.equal(result.retryable, true);
  });

  it('stops an attempt when the signal aborts, as a non-retryable "aborted"', async () => {
    const server = await serve(() => undefined);
    const stop = new AbortController();
    const attempt = executor.execute(post(server), { timeoutMs: 10_000, signal: stop.signal });
    await server.received();
    stop.abort();
    const result = failure(await attempt);

    assert.equal(result.kind, 'other');
    assert.equal(result.retryable, false);
    assert.equal(result.message, 'aborted');
  });

  it('sends nothing when the signal has already aborted', async () => {
    const server = await serve(answer(200));
    const result = failure(
      await executor.execute(post(server), { timeoutMs: 5000, signal: AbortSignal.abort() }),
    );

    assert.equal(result.message, 'aborted');
    assert.equal(server.requests.length, 0);
  });

  it('never puts the URL or the request headers in a failure message', async () => {
    const server = await serve(() => undefined);
    const preview: HttpPreview = {
      type: 'http',
      method: 'POST',
      url: `${server.baseUrl}/orders?token=url-secret-value`,
      headers: { Authorization: 'Bearer header-secret-value' },
      body: '{}',
    };
    const timedOut = failure(await executor.execute(preview, { timeoutMs: 200 }));
    const refused = failure(
      await executor.execute(
        { ...preview, url: `http://127.0.0.1:${await closedPort()}/orders?token=url-secret-value` },
        { timeoutMs: 5000 },
      ),
    );

    for (const message of [timedOut.message, refused.message]) {
      assert.doesNotMatch(message, /secret-value/);
    }
  });

  it('refuses a URL that is not http or https without sending anything', async () => {
    const preview: HttpPreview = { type: 'http', method: 'GET', url: 'file:///etc/passwd', headers: {} };
    const result = failure(await executor.execute(preview, { timeoutMs: 5000 }));

    assert.equal(result.kind, 'other');
    assert.equal(result.retryable, false);
    assert.match(result.message, /use http: or https:/);
  });

  it('refuses a header value Node cannot send, naming the header but not its value', async () => {
    const server = await serve(answer(200));
    const preview: HttpPreview = { ...post(server), headers: { 'X-Token': 'abc\r\nInjected: secret-value' } };
    const result = failure(await executor.execute(preview, { timeoutMs: 5000 }));

    assert.equal(result.kind, 'other');
    assert.equal(result.retryable, false);
    assert.match(result.message, /X-Token/);
    assert.doesNotMatch(result.message, /secret-value/);
    assert.equal(server.requests.length, 0);
  });

  it('refuses a header name that is not a token, naming it', async () => {
    const server = await serve(answer(200));
    const preview: HttpPreview = { ...post(server), headers: { 'X Token': 'secret-value' } };
    const result = failure(await executor.execute(preview, { timeoutMs: 5000 }));

    assert.equal(result.kind, 'other');
    assert.equal(result.retryable, false);
    assert.match(result.message, /^the request was not sent: .*"X Token"/);
    assert.doesNotMatch(result.message, /secret-value/);
    assert.equal(server.requests.length, 0);
  });

  it('opens no more connections than its cap, and takes a new cap for the next requests', async () => {
    // From the fourth request on, answers only once three are in: they must have been sent together.
    const held: (() => void)[] = [];
    const server = await serve((request, response) => {
      if (server.requests.length <= 3) return void response.end('ok');
      held.push(() => response.end('ok'));
      if (held.length === 3) for (const release of held.splice(0)) release();
    });
    const capped = createHttpExecutor({ maxSockets: 1 });
    cleanup.add(() => capped.close());
    const sendThree = () =>
      Promise.all([1, 2, 3].map((n) => capped.execute(post(server, `/${n}`), { timeoutMs: 5000 })));

    await sendThree();
    assert.equal(server.connections(), 1);
    capped.setMaxSockets(3);
    const together = await sendThree();

    assert.deepEqual(
      together.map((result) => result.ok),
      [true, true, true],
    );
    assert.equal(server.connections(), 4);
  });

  it('sends a single request on a connection of its own with executeHttp', async () => {
    const server = await serve(answer(204));
    const result = await executeHttp(post(server), { timeoutMs: 5000 });

    assert.deepEqual(result, { ok: true, durationMs: result.durationMs, httpStatus: 204 });
    assert.equal(server.requests.length, 1);
  });
});
