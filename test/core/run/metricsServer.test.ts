import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { UserError } from '../../../src/core/model/types';
import {
  metricsHostProblem,
  prometheusText,
  startMetricsServer,
  type MetricsAddress,
} from '../../../src/core/run/metricsServer';
import type { RunStatus } from '../../../src/core/run/runStatus';
import { bindsNonLocalAddresses, listeningAddresses } from '../../support/listeningSockets';

const status: RunStatus = {
  run: 'run-1',
  chain: 'chain-1',
  cell: 'check',
  mode: 'verify',
  environment: 'staging',
  pid: 1,
  host: 'h',
  state: 'running',
  startedAt: '2026-11-01T10:00:00.000Z',
  updatedAt: '2026-11-01T10:00:01.000Z',
  done: 10,
  succeeded: 0,
  failed: 0,
  rejected: 1,
  verification: { verified: 6, mismatch: 2, missing: 1, error: 0 },
  skipped: 0,
  inFlight: 0,
  rate: { now: 1, average: 1, configured: 1, effective: 1 },
  concurrency: 1,
  latencyMs: { p50: 1, p95: 1, p99: 1 },
  errorsByKind: {},
};

describe('prometheusText', () => {
  it("counts a verification's records by category, so mismatches can be alerted on while it runs", () => {
    const text = prometheusText(status);
    for (const [category, value] of [
      ['verified', 6],
      ['mismatch', 2],
      ['missing', 1],
      ['error', 0],
    ] as const) {
      assert.match(
        text,
        new RegExp(
          `^backfill_records_total\\{cell="check",run="run-1",status="${category}"\\} ${value}$`,
          'm',
        ),
      );
    }
  });
});

/** Whether a TCP connection to host:port is accepted. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startMetricsServer', () => {
  // Tests listen on 127.0.0.1 only: the default and the same address given explicitly. That another
  // address given reaches the socket is shown by an address this host does not have, refused below.
  for (const [what, address] of [
    ['no address (the default)', { port: 0 }],
    ['--metrics-host 127.0.0.1', { port: 0, host: '127.0.0.1' }],
  ] as [string, MetricsAddress][]) {
    it(`listens on 127.0.0.1 alone when given ${what}, and serves /metrics there`, async () => {
      const server = await startMetricsServer(address, () => status);
      try {
        assert.deepEqual(listeningAddresses(server.port), ['127.0.0.1'], 'the kernel has it on 127.0.0.1');
        // Linux routes all of 127/8 to the loopback: a socket on 0.0.0.0 would accept this connection.
        assert.equal(await connects('127.0.0.2', server.port), false, 'not on every interface');
        const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
        assert.match(text, /^backfill_records_total\{cell="check",run="run-1",status="verified"\} 6$/m);
      } finally {
        await server.close();
      }
      assert.deepEqual(listeningAddresses(server.port), [], 'closed');
    });
  }

  it('refuses an address this host does not have, saying so (EADDRNOTAVAIL)', async function () {
    if (bindsNonLocalAddresses()) this.skip(); // net.ipv4.ip_nonlocal_bind lets any address be bound
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): documentation only, never a host's address.
    await assert.rejects(
      startMetricsServer({ port: 0, host: '192.0.2.1' }, () => status),
      (error: Error) => {
        assert.ok(error instanceof UserError, String(error));
        assert.match(
          error.message,
          /^--metrics-host 192\.0\.2\.1: this host has no network interface with the address 192\.0\.2\.1 \(EADDRNOTAVAIL\): give one of its own addresses, 0\.0\.0\.0 for every interface, or leave --metrics-host out to listen on 127\.0\.0\.1$/,
        );
        return true;
      },
    );
  });
});

describe('metricsHostProblem', () => {
  for (const address of ['127.0.0.1', '0.0.0.0', '10.1.2.3', '::', '::1', '[::1]', 'fe80::1']) {
    it(`accepts ${address}`, () => assert.equal(metricsHostProblem(address), undefined));
  }
  for (const address of ['', 'localhost', 'metrics.internal', '256.1.1.1', '1.2.3', '[127.0.0.1]', '::g']) {
    it(`refuses ${JSON.stringify(address)}: not an IP address, saying what to give`, () => {
      assert.match(
        metricsHostProblem(address) ?? '',
        /^not an IP address: give an address of this host, 0\.0\.0\.0 \(every interface, to be scraped from other hosts\), :: .* or 127\.0\.0\.1 \(the default: this host only\)$/,
      );
    });
  }
  for (const address of ['0.0.0.0:9464', '[::]:9464']) {
    it(`refuses ${address}, saying the port has its own option`, () => {
      assert.match(metricsHostProblem(address) ?? '', /^not an IP address; the port goes in --metrics-port:/);
    });
  }
});
