// The run's status bar item: the same denominator as the confirmation, a rate only while sending, and
// production marked for every run against a production environment, a verification too.
import assert from 'node:assert/strict';
import type { RunStatus } from '../../../src/core/run/runStatus';
import { runStatusText } from '../../../src/extension/statusBar';

function status(overrides: Partial<RunStatus>): RunStatus {
  return {
    run: 'r1',
    chain: 'c1',
    cell: 'full',
    mode: 'execute',
    environment: 'local',
    pid: 1,
    host: 'h',
    state: 'running',
    startedAt: '2026-12-06T13:00:00.000Z',
    updatedAt: '2026-12-06T13:00:10.000Z',
    total: 490,
    selected: 497,
    done: 104,
    succeeded: 101,
    failed: 0,
    rejected: 3,
    skipped: 10,
    doneElsewhere: { 'small-batch': 10 },
    inFlight: 2,
    rate: { now: 9.95, average: 9.9, configured: 10, effective: 10 },
    concurrency: 2,
    latencyMs: { p50: 5, p95: 9, p99: 12 },
    errorsByKind: {},
    ...overrides,
  };
}

describe('the run status bar item', () => {
  it('counts done of the records selected to send, as the confirmation counts them', () => {
    assert.equal(runStatusText(status({})), '$(sync~spin) Backfill full: 22% 111 of 497 selected · 9.95/s');
  });

  it('shows no rate unless records are being sent', () => {
    for (const state of ['paused', 'stopping', 'halted', 'finished'] as const) {
      const text = runStatusText(status({ state }));
      assert.match(text, new RegExp(` · —/s · ${state}$`), text);
      assert.doesNotMatch(text, /9\.95/);
    }
  });

  it('marks a verification of a production environment as production', () => {
    const text = runStatusText(status({ mode: 'verify', production: true, environment: 'production' }));
    assert.match(text, /^\$\(sync~spin\) Backfill ⚠ PRODUCTION verify full:/);
    assert.doesNotMatch(runStatusText(status({ mode: 'verify' })), /PRODUCTION/);
  });
});
