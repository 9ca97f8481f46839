import { strict as assert } from 'node:assert';
import { prometheusText } from '../../../src/core/run/metricsServer';
import type { RunStatus } from '../../../src/core/run/runStatus';

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
