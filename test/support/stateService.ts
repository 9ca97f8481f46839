/**
 * A minimal stateful HTTP service on 127.0.0.1 for verification tests: `POST /items/KEY` stores the JSON
 * body as the item's state, `GET /items/KEY` answers it (404 when there is none). It holds state in a Map
 * so tests assert on what the service actually holds, and counts every write and read per key.
 *
 * `plant` decides, per write, what the service really stores — the right state, a wrong one, or nothing —
 * so a test can leave chosen records in a wrong end state the way a buggy target would.
 */
import * as http from 'node:http';
import { listenOnLoopback } from '../../src/demo/loopbackServer';

export type Item = Record<string, unknown>;

/** What the service does with a write: store it, store something else, or drop it. */
export type Planted = { store: Item } | { drop: true } | undefined;

export interface StateServiceOptions {
  /** Called for each write (with how many writes the key had before); undefined stores the body as sent. */
  plant?: (key: string, body: Item, earlierWrites: number) => Planted;
  /** An answer forced on a read, e.g. 503 for a key the test wants to be unreadable. */
  readStatus?: (key: string) => number | undefined;
  /** An error answer forced on a write (counted, nothing stored), e.g. 500 for a write that must fail. */
  writeStatus?: (key: string, earlierWrites: number) => number | undefined;
}

export interface StateService {
  url: string;
  /** What the service holds, by key. */
  items: Map<string, Item>;
  /** Writes and reads received, by key. */
  writes: Map<string, number>;
  reads: Map<string, number>;
  /** The Idempotency-Key of every write, by key, in arrival order. */
  idempotencyKeys: Map<string, string[]>;
  stop(): Promise<void>;
}

export async function startStateService(options: StateServiceOptions = {}): Promise<StateService> {
  const items = new Map<string, Item>();
  const writes = new Map<string, number>();
  const reads = new Map<string, number>();
  const idempotencyKeys = new Map<string, string[]>();

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const match = /^\/items\/([^/?#]+)$/.exec(request.url ?? '');
      if (!match) return answer(response, 404, { error: 'no such route' });
      const key = decodeURIComponent(match[1]!);
      if (request.method === 'POST') {
        const earlier = writes.get(key) ?? 0;
        writes.set(key, earlier + 1);
        const idempotencyKey = request.headers['idempotency-key'];
        if (typeof idempotencyKey === 'string') {
          idempotencyKeys.set(key, [...(idempotencyKeys.get(key) ?? []), idempotencyKey]);
        }
        const failed = options.writeStatus?.(key, earlier);
        if (failed !== undefined) return answer(response, failed, { error: 'forced' });
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Item;
        const planted = options.plant?.(key, body, earlier);
        if (planted && 'drop' in planted) items.delete(key);
        else items.set(key, planted ? planted.store : body);
        return answer(response, 202, { key });
      }
      reads.set(key, (reads.get(key) ?? 0) + 1);
      const forced = options.readStatus?.(key);
      if (forced !== undefined) return answer(response, forced, { error: 'forced' });
      const item = items.get(key);
      return item === undefined ? answer(response, 404, { error: 'not found' }) : answer(response, 200, item);
    });
  });
  const listener = await listenOnLoopback(server);
  return {
    url: listener.url,
    items,
    writes,
    reads,
    idempotencyKeys,
    stop: listener.stop,
  };
}

function answer(response: http.ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}
