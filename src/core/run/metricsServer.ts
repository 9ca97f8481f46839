/**
 * Prometheus text exposition of a run's status, so existing dashboards and alerts can watch a backfill
 * like any other service — every worker of a fleet its own endpoint, with the attempt latency as a
 * histogram Prometheus can aggregate across them.
 *
 * It listens on 127.0.0.1 unless told another address (`--metrics-host`): a worker in a pod or on a
 * fleet host is scraped from outside, so it must be able to listen on 0.0.0.0 or the host's own
 * address. What it serves is safe to expose: the cell id, the run's random id, fixed status and error
 * kind names, and numbers — never a URL, a record, a host name or a secret.
 *
 * Written by hand rather than with prom-client: the text format is a few lines, and prom-client is not
 * among the dependencies (the tests parse the output as Prometheus would).
 */
import * as http from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { UserError } from '../model/types';
import type { HistogramSnapshot } from './latencyHistogram';
import type { RunStatus } from './runStatus';

/** Where metrics are served when no address is given: this host only. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** Where to serve metrics: `--metrics-port` and `--metrics-host`. */
export interface MetricsAddress {
  /** 0 for any free port. */
  port: number;
  /** An IPv4 or IPv6 address of this host (0.0.0.0 or :: for every interface); default 127.0.0.1. */
  host?: string;
}

export interface MetricsServer {
  /** The port it listens on (the free one picked, when asked for port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Why `host` cannot be a metrics address, or undefined when it can: an IP address, not a name, so what
 * the endpoint is exposed on is exactly what was typed (a name may resolve to an outside address, or to
 * several). An IPv6 address may come in brackets, as in a URL.
 */
export function metricsHostProblem(host: string): string | undefined {
  if (isIP(unbracketed(host)) !== 0) return undefined;
  // HOST:PORT, as node_exporter's --web.listen-address takes it: here the port has its own option.
  const port = /^(?:[^:]+|\[[^\]]*\]):\d+$/.test(host) ? '; the port goes in --metrics-port' : '';
  return (
    `not an IP address${port}: give an address of this host, 0.0.0.0 (every interface, to be scraped ` +
    `from other hosts), :: (every interface, IPv6 too) or ${DEFAULT_METRICS_HOST} (the default: this host only)`
  );
}

/** `[::1]` → `::1` (an IPv6 address as URLs write it); any other address as given. */
export function unbracketed(host: string): string {
  return /^\[.*:.*\]$/.test(host) ? host.slice(1, -1) : host;
}

/**
 * Serves `/metrics` on `address` (127.0.0.1 unless it names another host) until closed. A port taken,
 * not ours to open, or an address this host does not have is a UserError that says what to change.
 * @param latency the attempt latency histogram, when the run keeps one.
 */
export async function startMetricsServer(
  address: MetricsAddress,
  status: () => RunStatus | undefined,
  latency?: () => HistogramSnapshot,
): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end('see /metrics\n');
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    response.end(prometheusText(status(), latency?.()));
  });
  const host = unbracketed(address.host ?? DEFAULT_METRICS_HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(address, host, error)));
    server.listen(address.port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port taken or not ours to open, an address not ours: the user's to change, not an internal error. */
function listenError(address: MetricsAddress, host: string, error: NodeJS.ErrnoException): Error {
  const { port } = address;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new UserError(
        `--metrics-port ${port}: ${where} is already in use: pick another port, or stop what listens there`,
      );
    case 'EACCES':
      return new UserError(
        `--metrics-port ${port}: not allowed to listen on ${where}: pick a port above 1023`,
      );
    case 'EADDRNOTAVAIL':
      return new UserError(
        `--metrics-host ${address.host ?? host}: this host has no network interface with the address ${host} ` +
          `(EADDRNOTAVAIL): give one of its own addresses, 0.0.0.0 for every interface, or leave ` +
          `--metrics-host out to listen on ${DEFAULT_METRICS_HOST}`,
      );
    case 'EAFNOSUPPORT':
      return new UserError(
        `--metrics-host ${address.host ?? host}: this host does not support IPv6 (EAFNOSUPPORT): give an ` +
          'IPv4 address, such as 0.0.0.0 for every interface',
      );
    default:
      return error;
  }
}

export function prometheusText(status: RunStatus | undefined, latency?: HistogramSnapshot): string {
  if (!status) return '# no run yet\n';
  const labels = `cell="${status.cell}",run="${status.run}"`;
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, values: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [extra, value] of values) lines.push(`${name}{${labels}${extra}} ${value}`);
  };
  metric('backfill_records_total', 'counter', 'Records with a final outcome, by status.', [
    [',status="succeeded"', status.succeeded],
    [',status="failed"', status.failed],
    [',status="rejected"', status.rejected],
    [',status="skipped"', status.skipped],
    // A verification's categories, so a dashboard can alert on mismatches while it runs.
    ...Object.entries(status.verification ?? {}).map(([category, value]): [string, number] => [
      `,status="${category}"`,
      value,
    ]),
  ]);
  metric('backfill_records_expected', 'gauge', 'Records the run will process in all (0 when unknown).', [
    ['', status.total ?? 0],
  ]);
  metric('backfill_in_flight', 'gauge', 'Records being sent now.', [['', status.inFlight]]);
  metric('backfill_rate_records_per_second', 'gauge', 'Dispatch rate.', [
    [',kind="now"', status.rate.now],
    [',kind="average"', status.rate.average],
    [',kind="configured"', status.rate.configured],
    [',kind="effective"', status.rate.effective],
  ]);
  metric('backfill_latency_milliseconds', 'gauge', 'Latency of record attempts.', [
    [',quantile="0.5"', status.latencyMs.p50],
    [',quantile="0.95"', status.latencyMs.p95],
    [',quantile="0.99"', status.latencyMs.p99],
  ]);
  metric(
    'backfill_errors_total',
    'counter',
    'Failed attempts by kind.',
    Object.entries(status.errorsByKind).map(([kind, count]) => [`,kind="${kind}"`, count ?? 0]),
  );
  metric('backfill_paused', 'gauge', '1 while the run is paused.', [['', status.state === 'paused' ? 1 : 0]]);
  if (latency) lines.push(...histogramLines('backfill_attempt_duration_seconds', labels, latency));
  return lines.join('\n') + '\n';
}

/** A histogram in the exposition format: cumulative `_bucket`s by `le`, then `_sum` and `_count`. */
function histogramLines(name: string, labels: string, histogram: HistogramSnapshot): string[] {
  return [
    `# HELP ${name} Latency of record attempts, seconds.`,
    `# TYPE ${name} histogram`,
    ...histogram.buckets.map(
      ([bound, count]) => `${name}_bucket{${labels},le="${bound === Infinity ? '+Inf' : bound}"} ${count}`,
    ),
    `${name}_sum{${labels}} ${histogram.sum}`,
    `${name}_count{${labels}} ${histogram.count}`,
  ];
}
