import { strict as assert } from 'node:assert';
import { FleetMember, type FleetView } from '../../../src/core/fleet/fleetMember';
import { fleetMembers } from '../../../src/core/fleet/fleetMembers';
import { openFleetDatabase } from '../../../src/core/fleet/fleetDatabase';
import type { DryRunRow } from '../../../src/core/ledger/ledger';
import { PostgresLedger } from '../../../src/core/ledger/postgresLedger';
import type { RecordOutcome, RunRecord } from '../../../src/core/model/runs';
import { FleetWatch } from '../../../src/core/run/fleetWatch';
import { waitFor } from '../../support/cliProcess';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';

const STARTED = new Date(Date.now() - 10_000).toISOString();

function runRecord(id: string): RunRecord {
  return {
    id,
    chain: `chain-${id}`,
    cell: 'full',
    job: 'orders',
    mode: 'execute',
    environment: 'shared',
    operator: 'tester',
    host: 'host-a',
    pid: 1234,
    startedAt: STARTED,
    fingerprint: 'fp-1',
    params: JSON.stringify({ throttle: { rate: 40, concurrency: 4 } }),
    outcome: 'running',
  };
}

function dryRun(): DryRunRow {
  return {
    id: 'dry-1',
    cell: 'preview',
    job: 'orders',
    environment: 'shared',
    operator: 'tester',
    host: 'host-a',
    startedAt: STARTED,
    finishedAt: STARTED,
    definitionHash: 'd',
    contentHash: 'c',
    fingerprint: 'fp-1',
    passed: true,
    total: 100,
    valid: 100,
    rejected: 0,
    duplicates: 0,
    report: JSON.stringify({ counts: { selected: 100 } }),
  };
}

function outcomes(run: RunRecord, succeeded: number, failed: number): RecordOutcome[] {
  const base = { run: run.id, chain: run.chain, cell: run.cell, attempts: 1, at: STARTED };
  return [
    ...Array.from({ length: succeeded }, (_, i) => ({
      ...base,
      key: `k${i}`,
      line: i + 2,
      status: 'succeeded' as const,
      idempotencyKey: `i${i}`,
    })),
    ...Array.from({ length: failed }, (_, i) => ({
      ...base,
      key: `f${i}`,
      line: 1000 + i,
      status: 'failed' as const,
      errorKind: 'http-5xx' as const,
      lastError: 'HTTP 503',
      idempotencyKey: `j${i}`,
    })),
  ];
}

describe('a fleet watched from outside it (the notebook)', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let place: { url: string; name: string };
  let ledger: PostgresLedger;
  let watch: FleetWatch | undefined;
  const members: FleetMember[] = [];

  async function join(run: string, fresh: boolean): Promise<{ member: FleetMember; views: FleetView[] }> {
    const views: FleetView[] = [];
    const member = await FleetMember.join({
      place,
      run,
      fresh,
      figures: () => ({ rate: 10, sent: 20 }),
      onView: (view) => views.push(view),
      onSlowdown: () => undefined,
    });
    members.push(member);
    return { member, views };
  }

  before(async function () {
    if (postgresUnavailable()) this.skip();
    server = await startPostgres();
  });
  beforeEach(async () => {
    place = { url: server.url, name: `watched-${Math.random().toString(36).slice(2)}` };
    ledger = await PostgresLedger.open(place);
  });
  afterEach(async () => {
    for (const member of members.splice(0)) await member.leave('stopped');
    await watch?.close();
    watch = undefined;
    await ledger?.close();
  });
  after(async () => server?.stop());

  it("shows the live run's counts from the ledger, its total, its fleet's rate and every worker", async () => {
    const run = runRecord('run-1');
    await ledger.recordDryRun(dryRun());
    await ledger.startRun(run);
    await ledger.recordOutcomes(outcomes(run, 30, 5));
    await join(run.id, true);
    await join(run.id, false);

    watch = await FleetWatch.open(place);
    assert.equal((await watch.liveRun())?.id, run.id);
    const progress = (await watch.progress(run.id))!;
    assert.equal(progress.live, true);
    assert.equal(progress.settled, false);
    const { status } = progress;
    assert.deepEqual(
      [status.state, status.cell, status.total, status.done, status.succeeded, status.failed],
      ['running', 'full', 100, 35, 30, 5],
    );
    assert.deepEqual(status.errorsByKind, { 'http-5xx': 5 });
    assert.equal(status.rate.now, 20, 'two members at 10/s each');
    assert.equal(status.rate.configured, 40);
    assert.equal(status.concurrency, 4);
    assert.equal(status.etaSeconds, Math.round(65 / 20));
    assert.equal(progress.fleet.alive, 2);
    assert.deepEqual(
      progress.fleet.members.map((m) => [m.pid, m.health]),
      [
        [process.pid, 'alive'],
        [process.pid, 'alive'],
      ],
    );
    assert.ok(!JSON.stringify(progress).includes(server.url), 'the URL is nowhere in what is shown');
  });

  it('sends pause, rate and stop to every worker through the fleet controls, and shows the fleet steered', async () => {
    const run = runRecord('run-2');
    await ledger.startRun(run);
    const a = await join(run.id, true);
    const b = await join(run.id, false);
    watch = await FleetWatch.open(place);

    assert.deepEqual(await watch.send({ command: 'pause' }), { run: run.id, members: 2 });
    assert.ok(await watch.send({ command: 'rate', value: 100 }));
    for (const { views } of [a, b]) {
      await waitFor(() => views.at(-1)?.controls.paused === true, 'the pause to reach the member', 5000);
      await waitFor(() => views.at(-1)?.controls.rate === 100, 'the rate to reach the member', 5000);
    }
    let progress = (await watch.progress(run.id))!;
    assert.equal(progress.status.state, 'paused');
    assert.equal(progress.status.rate.configured, 100);

    assert.ok(await watch.send({ command: 'stop' }));
    for (const { views } of [a, b]) {
      await waitFor(() => views.at(-1)?.controls.stop === true, 'the stop to reach the member', 5000);
    }
    assert.equal((await watch.progress(run.id))!.status.state, 'stopping');

    // The members obey and leave; the run records how it ended: the view can end, as halted.
    for (const member of members.splice(0)) await member.leave('stopped');
    await ledger.finishRun(run.id, 'halted', 'stopped by the operator');
    progress = (await watch.progress(run.id))!;
    assert.deepEqual(
      [progress.live, progress.settled, progress.status.state, progress.status.reason],
      [false, true, 'halted', 'stopped by the operator'],
    );
    const db = await openFleetDatabase(place);
    try {
      assert.deepEqual(
        (await fleetMembers(db, run.id)).map((m) => m.state),
        ['stopped', 'stopped'],
      );
    } finally {
      await db.client.end();
    }
    assert.equal(await watch.send({ command: 'stop' }), undefined, 'no live worker: nothing is sent');
    assert.equal(await watch.liveRun(), undefined);
  });

  it('says a run whose workers are all lost has none alive, without waiting for its record', async () => {
    const run = runRecord('run-3');
    await ledger.startRun(run);
    const db = await openFleetDatabase(place);
    try {
      await db.client.query(
        `INSERT INTO ${db.schema}.workers (ledger, run, id, host, pid, started_at, heartbeat_at, state)
         VALUES ($1, $2, 'gone', 'host-b', 99, now() - interval '1 minute', now() - interval '30 seconds', 'working')`,
        [place.name, run.id],
      );
    } finally {
      await db.client.end();
    }
    watch = await FleetWatch.open(place);
    const progress = (await watch.progress(run.id))!;
    assert.deepEqual([progress.live, progress.settled, progress.status.state], [false, false, 'halted']);
    assert.match(progress.status.reason ?? '', /no worker is alive \(1 lost/);
    assert.equal(progress.fleet.members[0]?.health, 'lost');
  });
});
