import { strict as assert } from 'node:assert';
import { LatencyHistogram, LATENCY_BUCKETS_SECONDS } from '../../../src/core/run/latencyHistogram';
import { prometheusText } from '../../../src/core/run/metricsServer';
import type { RunStatus } from '../../../src/core/run/runStatus';

describe('latency histogram', () => {
  it('counts each latency in the first bucket whose bound holds it, cumulatively, with sum and count', () => {
    const histogram = new LatencyHistogram();
    for (const ms of [0.5, 1, 3, 30, 30, 120_000, -1, Number.NaN]) histogram.record(ms);
    const { buckets, sum, count } = histogram.snapshot();
    const at = (bound: number) => buckets.find(([le]) => le === bound)?.[1];
    assert.equal(count, 6);
    assert.equal(at(0.001), 2); // 0.5 ms and exactly 1 ms
    assert.equal(at(0.005), 3);
    assert.equal(at(0.025), 3);
    assert.equal(at(0.05), 5);
    assert.equal(at(60), 5);
    assert.equal(at(Infinity), 6);
    assert.equal(buckets.length, LATENCY_BUCKETS_SECONDS.length + 1);
    assert.ok(Math.abs(sum - (0.0005 + 0.001 + 0.003 + 0.03 + 0.03 + 120)) < 1e-9);
  });

  it('is written in the Prometheus exposition format, one series per bound and +Inf last', () => {
    const histogram = new LatencyHistogram();
    histogram.record(7);
    const status = {
      run: 'r',
      cell: 'c',
      succeeded: 1,
      failed: 0,
      rejected: 0,
      skipped: 0,
      inFlight: 0,
      state: 'running',
      rate: { now: 1, average: 1, configured: 1, effective: 1 },
      latencyMs: { p50: 7, p95: 7, p99: 7 },
      errorsByKind: {},
    } as unknown as RunStatus;
    const text = prometheusText(status, histogram.snapshot());
    assert.match(text, /^# TYPE backfill_attempt_duration_seconds histogram$/m);
    assert.match(text, /^backfill_attempt_duration_seconds_bucket\{cell="c",run="r",le="0\.005"\} 0$/m);
    assert.match(text, /^backfill_attempt_duration_seconds_bucket\{cell="c",run="r",le="0\.01"\} 1$/m);
    assert.match(text, /^backfill_attempt_duration_seconds_bucket\{cell="c",run="r",le="\+Inf"\} 1$/m);
    assert.match(text, /^backfill_attempt_duration_seconds_sum\{cell="c",run="r"\} 0\.007$/m);
    assert.match(text, /^backfill_attempt_duration_seconds_count\{cell="c",run="r"\} 1$/m);
  });
});
