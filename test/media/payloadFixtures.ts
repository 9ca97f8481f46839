// Payloads as the extension sends them to the renderer, shared by the unit tests and the renderer
// gallery (test/extension/ui/). The dry run is the real report of runbooks/demo.backfill.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FleetMemberRow } from '../../src/core/fleet/fleetMembers';
import type { RunStatus } from '../../src/core/run/runStatus';
import type {
  ChecklistPayload,
  DryRunPayload,
  FleetPayload,
  ProgressPayload,
  ProgressSample,
  VerifyPayload,
} from '../../media/renderer/payloads';

const FIXTURES = path.resolve(__dirname, '../fixtures/renderer');
export const STARTED = Date.UTC(2026, 10, 26, 9, 30, 0);

export function demoDryRun(): DryRunPayload {
  return JSON.parse(readFileSync(path.join(FIXTURES, 'demo-dry-run.json'), 'utf8')) as DryRunPayload;
}

export const HOSTILE_VALUE = '<img src=x onerror="document.body.dataset.pwned=1">';

/** A dry run whose record values try to inject markup, with far more rejected records than it lists. */
export function hostileDryRun(): DryRunPayload {
  const report = demoDryRun();
  report.passed = true;
  report.problems = [];
  report.counts = { total: 300_497, valid: 497, rejected: 300_000, duplicates: 0, selected: 497 };
  report.rejected = Array.from({ length: 100 }, (_, i) => ({
    line: i + 2,
    key: `${HOSTILE_VALUE}-${i}`,
    reason: `field amount: expected a number, got "${HOSTILE_VALUE}"`,
  }));
  report.duplicates = [];
  const first = report.preview[0];
  if (first?.send.type === 'http') first.send.body = JSON.stringify({ note: HOSTILE_VALUE });
  return report;
}

export function runStatus(overrides: Partial<RunStatus> = {}): RunStatus {
  return {
    run: 'run-1',
    chain: 'chain-1',
    cell: 'full',
    mode: 'execute',
    environment: 'local',
    pid: 4242,
    host: 'bastion',
    state: 'running',
    startedAt: new Date(STARTED).toISOString(),
    updatedAt: new Date(STARTED + 120_000).toISOString(),
    total: 50_000,
    done: 12_345,
    succeeded: 12_100,
    failed: 180,
    rejected: 40,
    skipped: 25,
    inFlight: 4,
    rate: { now: 48.2, average: 45.1, configured: 50, effective: 50 },
    concurrency: 4,
    latencyMs: { p50: 84, p95: 310, p99: 1200 },
    errorsByKind: { 'http-5xx': 120, timeout: 45, 'http-429': 15 },
    etaSeconds: 783,
    ...overrides,
  };
}

/** About once a second for `seconds`, with a burst of 5xx errors in the middle third. */
export function history(seconds: number, rate = 48): ProgressSample[] {
  let failed = 0;
  return Array.from({ length: seconds }, (_, second) => {
    if (second > seconds / 3 && second < (2 * seconds) / 3) failed += 3;
    const wobble = Math.sin(second / 7) * 4;
    return {
      t: STARTED + second * 1000,
      done: second * rate,
      succeeded: second * rate - failed,
      failed,
      rate: Math.max(0, rate + wobble - (failed > 0 && second < (2 * seconds) / 3 ? 10 : 0)),
    };
  });
}

export function progressPayload(overrides: Partial<RunStatus> = {}, seconds = 120): ProgressPayload {
  return { status: runStatus(overrides), history: history(seconds) };
}

export function verifyPayload(): VerifyPayload {
  return {
    cell: 'check',
    counts: { verified: 496, mismatch: 2, missing: 1, error: 1 },
    samples: [
      {
        key: 'ORD-100042',
        status: 'mismatch',
        expected: '{"confirmationResent":true}',
        actual: '{"confirmationResent":false}',
        detail: 'confirmationResent: expected true, got false',
      },
      {
        key: 'ORD-100077',
        status: 'mismatch',
        expected: { amount: 5.5 },
        actual: { amount: 6.5 },
        detail: 'amount: expected 5.5, got 6.5',
      },
      { key: 'ORD-100101', status: 'missing', detail: 'GET /orders/ORD-100101 returned 404' },
      { key: 'ORD-100300', status: 'error', detail: 'timed out after 5000 ms (3 attempts)' },
    ],
  };
}

export function checklistPayload(): ChecklistPayload {
  return {
    cell: 'sign-off',
    items: [
      {
        id: 'orders-owner',
        item: 'Orders service owner agrees to the window and 50 requests per second',
        owner: 'Grace Hopper',
        required: true,
        checked: { by: 'grace', at: new Date(STARTED - 3_600_000).toISOString() },
      },
      {
        id: 'support',
        item: 'Support knows customers will receive a second confirmation',
        owner: 'Ada Lovelace',
        required: true,
      },
      { id: 'announce', item: 'Announcement posted in #orders', owner: 'Ada Lovelace', required: false },
    ],
  };
}

/** A member of a distributed run's fleet, alive and working on chunk 7, as the database lists it. */
export function fleetMember(overrides: Partial<FleetMemberRow> = {}): FleetMemberRow {
  return {
    id: 'a1',
    host: 'worker-1',
    pid: 4242,
    startedAt: new Date(STARTED).toISOString(),
    chunk: 7,
    rate: 19.96,
    sent: 1234,
    state: 'working',
    heartbeatAt: new Date(STARTED + 119_600).toISOString(),
    silentMs: 400,
    health: 'alive',
    ...overrides,
  };
}

/** A fleet of these members, counted as the core counts them. */
export function fleetPayload(
  members: FleetMemberRow[] = [
    fleetMember(),
    fleetMember({ id: 'b2', host: 'worker-2', pid: 5151, chunk: 8 }),
    fleetMember({ id: 'c3', host: 'worker-3', pid: 6161, health: 'lost', silentMs: 12_300, chunk: 9 }),
    fleetMember({ id: 'd4', host: 'worker-4', pid: 7171, state: 'done', health: 'ended', chunk: undefined }),
  ],
  controls: Partial<FleetPayload['controls']> = {},
): FleetPayload {
  return {
    members,
    alive: members.filter((m) => m.health === 'alive').length,
    lost: members.filter((m) => m.health === 'lost').length,
    controls: { seq: 1, paused: false, stop: false, ...controls },
  };
}
