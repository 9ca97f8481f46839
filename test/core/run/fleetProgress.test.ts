import { strict as assert } from 'node:assert';
import type { FleetMemberRow } from '../../../src/core/fleet/fleetMembers';
import type { FleetStatus } from '../../../src/core/fleet/fleetStatus';
import type { RunRecord } from '../../../src/core/model/runs';
import { fleetProgress } from '../../../src/core/run/fleetProgress';

const NOW = new Date('2026-12-06T10:00:10.000Z');

function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'r1',
    chain: 'c1',
    cell: 'full',
    job: 'orders',
    mode: 'execute',
    environment: 'shared',
    operator: 'ada',
    host: 'host-a',
    pid: 10,
    startedAt: '2026-12-06T10:00:00.000Z',
    fingerprint: 'fp',
    params: JSON.stringify({ throttle: { rate: 50, concurrency: 8 } }),
    outcome: 'running',
    ...overrides,
  };
}

function member(health: FleetMemberRow['health'], rate: number, sent: number): FleetMemberRow {
  return {
    id: `${health}-${rate}`,
    host: 'h',
    pid: 1,
    startedAt: '2026-12-06T10:00:00.000Z',
    rate,
    sent,
    state: health === 'ended' ? 'done' : 'working',
    heartbeatAt: '2026-12-06T10:00:09.000Z',
    silentMs: 1000,
    health,
  };
}

function fleet(members: FleetMemberRow[], controls: Partial<FleetStatus['controls']> = {}): FleetStatus {
  return {
    members,
    alive: members.filter((m) => m.health === 'alive').length,
    lost: members.filter((m) => m.health === 'lost').length,
    controls: { seq: 1, paused: false, stop: false, ...controls },
  };
}

describe('fleet progress', () => {
  it('adds up the live members’ rates and estimates the rest from the ledger’s counts', () => {
    const { status, live } = fleetProgress({
      run: run(),
      tallies: [
        { status: 'succeeded', run: 'r1', count: 300 },
        { status: 'failed', errorKind: 'timeout', run: 'r1', count: 20 },
      ],
      fleet: fleet([member('alive', 20, 200), member('alive', 20, 120), member('lost', 7, 10)]),
      total: 1120,
      now: NOW,
    });
    assert.equal(live, true);
    assert.deepEqual(
      [status.state, status.done, status.rate.now, status.rate.average],
      ['running', 320, 40, 33],
    );
    assert.equal(status.etaSeconds, 20, '800 left at 40/s');
    assert.deepEqual(status.errorsByKind, { timeout: 20 });
    assert.deepEqual([status.rate.configured, status.concurrency], [50, 8]);
  });

  it('takes the fleet’s rate and concurrency once a command changed them', () => {
    const { status } = fleetProgress({
      run: run(),
      tallies: [],
      fleet: fleet([member('alive', 1, 1)], { rate: 500, concurrency: 2, paused: true }),
      now: NOW,
    });
    assert.deepEqual([status.state, status.rate.configured, status.concurrency], ['paused', 500, 2]);
    assert.equal(status.etaSeconds, undefined);
  });

  it('counts a verification’s records by category', () => {
    const { status } = fleetProgress({
      run: run({ mode: 'verify' }),
      tallies: [
        { status: 'verified', run: 'r1', count: 9 },
        { status: 'mismatch', run: 'r1', count: 1 },
      ],
      fleet: fleet([member('alive', 1, 1)]),
      now: NOW,
    });
    assert.deepEqual(status.verification, { verified: 9, mismatch: 1, missing: 0, error: 0 });
  });

  it('is finished, settled, once no member is alive and the run recorded its success', () => {
    const progress = fleetProgress({
      run: run({ outcome: 'succeeded' }),
      tallies: [{ status: 'succeeded', run: 'r1', count: 5 }],
      fleet: fleet([member('ended', 0, 5)]),
      now: NOW,
    });
    assert.deepEqual(
      [progress.live, progress.settled, progress.status.state, progress.status.outcome],
      [false, true, 'finished', 'succeeded'],
    );
    assert.equal(progress.status.rate.now, 0);
  });
});
