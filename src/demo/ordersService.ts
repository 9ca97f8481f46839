/**
 * A small orders service for the demo and the tests: listens on 127.0.0.1 on a free port, answers with
 * realistic latency and an occasional 429 or 500, and records every request it receives so tests can
 * assert on what actually arrived — never on what the tool says it sent.
 */
import * as http from 'node:http';
import { listenOnLoopback } from './loopbackServer';

export interface ReceivedRequest {
  method: string;
  /** Raw request target as received, still percent-encoded. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface OrdersServiceOptions {
  /** Mean added latency in milliseconds (uniform between half and one and a half times it). */
  latencyMs?: number;
  /** Share of requests answered 429 with Retry-After: 1. */
  rate429?: number;
  /** Share of requests answered 500. */
  rate500?: number;
  /** Seed for the failure draw, so a run is repeatable. */
  seed?: number;
  /**
   * Orders whose first re-send is acknowledged (202) but never applied: the "processed, but not right"
   * failure that only verification catches.
   */
  losesFirstResendOf?: (id: string) => boolean;
}

export interface OrdersService {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** Orders whose confirmation was re-sent, by id: the end state verification checks. */
  resent: Map<string, { times: number; lastBody: string }>;
  stop(): Promise<void>;
}

export async function startOrdersService(options: OrdersServiceOptions = {}): Promise<OrdersService> {
  const random = seededRandom(options.seed ?? 42);
  const received: ReceivedRequest[] = [];
  const resent = new Map<string, { times: number; lastBody: string }>();
  const lost = new Set<string>();

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
        at: Date.now(),
      });
      const latency = options.latencyMs ? options.latencyMs * (0.5 + random()) : 0;
      setTimeout(() => respond(request, response, body), latency);
    });
  });

  function respond(request: http.IncomingMessage, response: http.ServerResponse, body: string): void {
    const draw = random();
    if (draw < (options.rate429 ?? 0))
      return send(response, 429, { error: 'slow down' }, { 'Retry-After': '1' });
    if (draw < (options.rate429 ?? 0) + (options.rate500 ?? 0))
      return send(response, 500, { error: 'internal error' });
    const match = /^\/orders\/([^/?#]+)(\/resend)?$/.exec(request.url ?? '');
    if (!match) return send(response, 404, { error: 'not found' });
    const id = decodeURIComponent(match[1]!);
    if (match[2] && request.method === 'POST') {
      if (options.losesFirstResendOf?.(id) && !lost.has(id)) {
        lost.add(id);
        return send(response, 202, { id, resent: true });
      }
      const previous = resent.get(id);
      resent.set(id, { times: (previous?.times ?? 0) + 1, lastBody: body });
      return send(response, 202, { id, resent: true });
    }
    if (!match[2] && request.method === 'GET') {
      const state = resent.get(id);
      return send(response, 200, { id, confirmationResent: state !== undefined, times: state?.times ?? 0 });
    }
    return send(response, 405, { error: 'method not allowed' });
  }

  const listener = await listenOnLoopback(server);
  return {
    url: listener.url,
    port: listener.port,
    received,
    resent,
    stop: listener.stop,
  };
}

function send(
  response: http.ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(JSON.stringify(payload));
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}
