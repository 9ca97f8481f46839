/**
 * A real HTTP target on 127.0.0.1 that misbehaves on demand: error statuses with or without Retry-After,
 * answers slower than the client's timeout, sockets destroyed after the headers, and being stopped and
 * started again on the same port. It logs every request it received across restarts, so a test can audit
 * what actually arrived rather than what the tool says it sent.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  /** The last path segment, percent-decoded: the record key in the fault suite's URLs. */
  key: string;
  idempotencyKey: string | undefined;
  headers: http.IncomingHttpHeaders;
  url: string;
  body: string;
}

export interface Fault {
  status?: number;
  headers?: Record<string, string>;
  /** The response body; defaults to a small JSON document naming the key. */
  body?: string;
  delayMs?: number;
  /** Send the status line and headers, then destroy the socket before any body arrives. */
  resetAfterHeaders?: boolean;
}

/** Decides the answer to the `n`th request (1-based, counted across restarts) and the key's `attempt`. */
export type Behaviour = (request: Received, n: number, attempt: number) => Fault;

export class FaultTarget {
  readonly received: Received[] = [];
  private readonly attempts = new Map<string, number>();
  private server: http.Server | undefined;
  private port = 0;

  private constructor(private readonly behave: Behaviour) {}

  /** Starts listening on a free port (or `port`). */
  static async start(behave: Behaviour = () => ({})): Promise<FaultTarget> {
    const target = new FaultTarget(behave);
    await target.listen();
    return target;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Keys received, each once, sorted. */
  receivedKeys(): string[] {
    return [...new Set(this.received.map((r) => r.key))].sort();
  }

  /** The idempotency keys each record key arrived with. */
  idempotencyKeysByKey(): Map<string, Set<string | undefined>> {
    const byKey = new Map<string, Set<string | undefined>>();
    for (const r of this.received) {
      if (!byKey.has(r.key)) byKey.set(r.key, new Set());
      byKey.get(r.key)!.add(r.idempotencyKey);
    }
    return byKey;
  }

  /** Listens again on the same port after `stop()` (a restart), or on a free one the first time. */
  async listen(): Promise<void> {
    const server = http.createServer((request, response) => this.answer(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening and cuts every open connection, as a crashing or restarting server does. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = request.url ?? '';
      const path = url.split('?')[0]!;
      const key = decodeURIComponent(path.split('/').filter(Boolean).pop() ?? '');
      const header = request.headers['idempotency-key'];
      const received: Received = {
        key,
        idempotencyKey: typeof header === 'string' ? header : undefined,
        headers: request.headers,
        url,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      this.received.push(received);
      const attempt = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, attempt);
      const fault = this.behave(received, this.received.length, attempt);
      const reply = () => {
        if (response.destroyed) return;
        const headers = { 'Content-Type': 'application/json', ...fault.headers };
        if (fault.resetAfterHeaders) {
          response.writeHead(fault.status ?? 200, { ...headers, 'Content-Length': '1000' });
          response.flushHeaders();
          setImmediate(() => response.socket?.destroy());
          return;
        }
        response.writeHead(fault.status ?? 200, headers);
        response.end(fault.body ?? JSON.stringify({ key }));
      };
      if (fault.delayMs) setTimeout(reply, fault.delayMs);
      else reply();
    });
  }
}
