/**
 * A real HTTP target on 127.0.0.1 for execution tests. It records every request it receives (path, key,
 * Idempotency-Key, arrival time), tracks the most requests it ever had in flight at once, and answers as
 * the test's `behave` callback decides: success, an error status, a Retry-After, a delay, or no answer.
 */
import * as http from 'node:http';
import { listenOnLoopback } from '../../src/demo/loopbackServer';

export interface Arrival {
  method: string;
  path: string;
  /** The last path segment, percent-decoded: the record key in these tests' URLs. */
  key: string;
  idempotencyKey?: string;
  body: string;
  at: number;
}

export interface Answer {
  status?: number;
  delayMs?: number;
  headers?: Record<string, string>;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

export interface TargetServer {
  url: string;
  arrivals: Arrival[];
  maxInFlight: number;
  /** Starts tracking `maxInFlight` afresh from the requests in flight now (after a concurrency change). */
  resetMaxInFlight(): void;
  /** Arrivals per key. */
  countsByKey(): Map<string, number>;
  /** The most arrivals within any window of `ms` milliseconds. */
  busiestWindow(ms?: number): number;
  stop(): Promise<void>;
}

export async function startTargetServer(
  behave: (arrival: Arrival, attempt: number) => Answer = () => ({}),
  /** A fixed port instead of a free one (see listenOnLoopback). */
  port = 0,
): Promise<TargetServer> {
  const arrivals: Arrival[] = [];
  const attempts = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((request, response) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = () => {
      if (!done) inFlight -= 1;
      done = true;
    };
    response.on('close', finish);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = (request.url ?? '').split('?')[0]!;
      const key = decodeURIComponent(path.split('/').filter(Boolean).pop() ?? '');
      const header = request.headers['idempotency-key'];
      const arrival: Arrival = {
        method: request.method ?? '',
        path,
        key,
        ...(typeof header === 'string' ? { idempotencyKey: header } : {}),
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      arrivals.push(arrival);
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const answer = behave(arrival, attempt);
      if (answer.hang) return;
      setTimeout(() => {
        response.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json', ...answer.headers });
        response.end(JSON.stringify({ key }));
      }, answer.delayMs ?? 0);
    });
  });
  const listener = await listenOnLoopback(server, port);
  return {
    url: listener.url,
    arrivals,
    get maxInFlight() {
      return maxInFlight;
    },
    resetMaxInFlight() {
      maxInFlight = inFlight;
    },
    countsByKey() {
      const counts = new Map<string, number>();
      for (const a of arrivals) counts.set(a.key, (counts.get(a.key) ?? 0) + 1);
      return counts;
    },
    busiestWindow(ms = 1000) {
      const times = arrivals.map((a) => a.at).sort((a, b) => a - b);
      let busiest = 0;
      let start = 0;
      for (let end = 0; end < times.length; end += 1) {
        while (times[end]! - times[start]! >= ms) start += 1;
        busiest = Math.max(busiest, end - start + 1);
      }
      return busiest;
    },
    stop: listener.stop,
  };
}
