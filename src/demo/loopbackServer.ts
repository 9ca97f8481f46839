import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackListener {
  url: string;
  port: number;
  /** Closes the server, dropping keep-alive and hanging connections so it never waits on them. */
  stop(): Promise<void>;
}

/**
 * Starts `server` on 127.0.0.1 on a free port: demos and tests never listen anywhere else. `port` pins
 * the port instead, for the one test whose committed ledger names its target's address.
 */
export async function listenOnLoopback(server: http.Server, port = 0): Promise<LoopbackListener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
