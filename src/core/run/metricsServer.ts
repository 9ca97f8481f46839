/**
 * Prometheus text exposition of a run's status on 127.0.0.1, so existing dashboards and alerts can
 * watch a backfill like any other service — every worker of a fleet its own endpoint, with the attempt
 * latency as a histogram Prometheus can aggregate across them.
 *
 * Written by hand rather than with prom-client: the text format is a few lines, and prom-client is not
 * among the dependencies (the tests parse the output as Prometheus would).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../model/types';
import type { HistogramSnapshot } from './latencyHistogram';
import type { RunStatus } from './runStatus';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` on 127.0.0.1:`port` (0 for any free port) until closed.
 * @param latency the attempt latency histogram, when the run keeps one.
 */
export async function startMetricsServer(
  port: number,
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(port, error)));
    server.listen(port, '127.0.0.1', resolve);
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

/** A port taken or not ours to open is the user's to change, not an internal error. */
function listenError(port: number, error: NodeJS.ErrnoException): Error {
  if (error.code === 'EADDRINUSE') {
    return new UserError(
      `--metrics-port ${port}: 127.0.0.1:${port} is already in use: pick another port, or stop what listens there`,
    );
  }
  if (error.code === 'EACCES') {
    return new UserError(
      `--metrics-port ${port}: not allowed to listen on 127.0.0.1:${port}: pick a port above 1023`,
    );
  }
  return error;
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
