import { strict as assert } from 'node:assert';
import { ManualClock } from '../../../src/core/run/clock';
import { LiveCounters, type DispatchView } from '../../../src/core/run/liveStatus';
import { zeroCounts } from '../../../src/core/run/statusCounts';
import type { AttemptResult, RunRecord } from '../../../src/core/model/runs';

const RUN: RunRecord = {
  id: 'run-2',
  chain: 'chain-1',
  cell: 'full',
  job: 'orders',
  mode: 'execute',
  environment: 'staging',
  operator: 'ada',
  host: 'bastion',
  pid: 1,
  startedAt: '2026-12-05T00:00:00.000Z',
  fingerprint: 'fp',
  params: '{}',
  outcome: 'running',
};

const DISPATCH: DispatchView = {
  inFlight: 3,
  concurrency: 4,
  configuredRate: 100,
  effectiveRate: 50.004,
  stopReason: undefined,
};

const failure = (kind: 'http-5xx' | 'timeout'): AttemptResult => ({
  ok: false,
  durationMs: 5,
  kind,
  retryable: true,
  overload: false,
  message: 'no',
});

describe('live counters and status', () => {
  it("counts the whole chain: earlier runs' outcomes plus this run's", async () => {
    const clock = new ManualClock();
    const counters = new LiveCounters(clock);
    counters.setEarlier({ ...zeroCounts(), succeeded: 10, failed: 2 });
    await clock.advance(500);
    counters.countOutcome('succeeded');
    counters.countOutcome('failed');
    counters.countRejected();
    counters.countSkipped();
    counters.countSkipped();
    await clock.advance(500);
    const status = counters.status(RUN, DISPATCH, { kind: 'execute', total: 30, state: 'running' });
    assert.equal(status.done, 15);
    assert.equal(status.succeeded, 11);
    assert.equal(status.failed, 3);
    assert.equal(status.rejected, 1);
    assert.equal(status.skipped, 2);
    assert.equal(status.total, 30);
    assert.equal(status.inFlight, 3);
    assert.equal(status.concurrency, 4);
    assert.deepEqual(status.rate, { now: 2, average: 2, configured: 100, effective: 50 });
    assert.equal(status.etaSeconds, 8, '15 records left at 2 a second');
    assert.equal(status.verification, undefined);
    assert.deepEqual(counters.own(), { ...zeroCounts(), succeeded: 1, failed: 1, rejected: 1 });
  });

  it("shows a verification's categories, the state it is given and why it stopped", () => {
    const counters = new LiveCounters(new ManualClock());
    counters.countOutcome('verified');
    counters.countOutcome('mismatch');
    const status = counters.status(
      RUN,
      { ...DISPATCH, stopReason: 'stopped by backfill control' },
      { kind: 'verify', total: undefined, state: 'halted' },
    );
    assert.deepEqual(status.verification, { verified: 1, mismatch: 1, missing: 0, error: 0 });
    assert.equal(status.state, 'halted');
    assert.equal(status.reason, 'stopped by backfill control');
    assert.equal('total' in status, false);
    assert.equal('etaSeconds' in status, false);
  });

  it('counts errors by kind and samples their events: the first 20 of each kind, then one in 1000', () => {
    const counters = new LiveCounters(new ManualClock());
    const sampled: number[] = [];
    for (let i = 1; i <= 3000; i += 1) if (counters.countAttempt(failure('http-5xx'))) sampled.push(i);
    assert.deepEqual(sampled, [...Array.from({ length: 20 }, (_, i) => i + 1), 1000, 2000, 3000]);
    assert.equal(counters.countAttempt(failure('timeout')), true, 'each kind has its own samples');
    assert.equal(counters.countAttempt({ ok: true, durationMs: 5 }), false);
    const status = counters.status(RUN, DISPATCH, { kind: 'execute', total: undefined, state: 'running' });
    assert.deepEqual(status.errorsByKind, { 'http-5xx': 3000, timeout: 1 });
    assert.equal(status.latencyMs.p50, 5);
  });
});
