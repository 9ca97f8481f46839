/**
 * Real local targets for the executor tests: plain node:http servers on 127.0.0.1 that record exactly
 * what they received, scratch folders, and a cleanup list run after every test so no server, socket or
 * folder outlives its test.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The command fixture; run it as `[process.execPath, COMMAND_FIXTURE, behaviour, ...args]`. */
export const COMMAND_FIXTURE = path.join(__dirname, 'fixtures', 'command.mjs');

/** The folder of the module fixture `handler.ts`, as a module action's base folder. */
export const FIXTURES_DIR = path.join(__dirname, 'fixtures');

/** One request exactly as the server saw it. */
export interface ReceivedRequest {
  method: string;
  /** Path and query, as sent on the request line. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Which connection it came on: 1 for the server's first connection, 2 for its second, ... */
  connection: number;
}

/** Answers a received request; may also leave the response unanswered or break the connection. */
export type Responder = (request: ReceivedRequest, response: ServerResponse) => void;

export interface TestServer {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  baseUrl: string;
  requests: ReceivedRequest[];
  /** How many TCP connections the server accepted. */
  connections(): number;
  /** Resolves once the server has received its `count`-th request (default: the first). */
  received(count?: number): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

/** Starts a server on an ephemeral port that answers every request with `respond`. */
export async function startServer(respond: Responder): Promise<TestServer> {
  const requests: ReceivedRequest[] = [];
  const waiters: { count: number; resolve: (request: ReceivedRequest) => void }[] = [];
  const connectionIds = new WeakMap<object, number>();
  let connections = 0;

  const server = http.createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request: ReceivedRequest = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        connection: connectionIds.get(incoming.socket) ?? 0,
      };
      requests.push(request);
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) waiter.resolve(request);
      respond(request, response);
    });
  });
  server.on('connection', (socket) => connectionIds.set(socket, ++connections));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    received: (count = 1) =>
      new Promise((resolve) => {
        const already = requests[count - 1];
        if (already) resolve(already);
        else waiters.push({ count, resolve });
      }),
    close: () => {
      // Hanging responses and idle keep-alive sockets would otherwise keep close() waiting.
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: opened, read and closed again, so connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A fresh scratch folder. */
export function scratchDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'backfill-executors-'));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Reads a JSON file the command or module fixture left as evidence. */
export async function readEvidence(dir: string, name: string): Promise<unknown> {
  return JSON.parse(await readFile(path.join(dir, name), 'utf8')) as unknown;
}

/** Things to undo after each test, undone in reverse order. */
export class Cleanup {
  private readonly steps: (() => Promise<void> | void)[] = [];

  add(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) await this.steps.pop()?.();
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns true; fails after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(20);
  }
}

/** True while a process with this pid exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
