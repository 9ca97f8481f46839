import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import { sendControl } from '../../src/core/run/control';
import { runCli } from '../support/cli';
import { sleep, waitFor, type RunningCli } from '../support/cliProcess';
import { usePostgresFleet } from '../support/postgresFleet';
import type { FixtureOptions } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

const RATE = 40;
/** The exit code of a process stopped by `backfill control FILE stop` (or the editor's stop). */
const STOPPED = 3;

interface FleetMember {
  pid: number;
  host: string;
  chunk?: number;
  rate: number;
  heartbeatAt: string;
  health: string;
}

interface FleetJson {
  cells: {
    cell: string;
    state: string;
    succeeded: number;
    fleet?: { alive: number; lost: number; members: FleetMember[] };
  }[];
}

/**
 * Control and status of a fleet of real processes: `backfill run` (the run's creator) and `backfill worker`
 * processes, each on its own "host" (a folder with the same runbook and records), sharing one run through
 * a PostgreSQL ledger and sending to one counting target. The target cannot tell the processes apart:
 * "nothing from any process" is nothing at the target.
 */
describe('a fleet of backfill worker processes sharing a PostgreSQL ledger', function () {
  this.timeout(120_000);
  const pg = usePostgresFleet('backfill-fleet-');
  let target: TargetServer;
  let hosts = 0;
  /** The run's creator's runbook (host h1), whose folder holds the editor's control.json. */
  let creatorFile: string;
  beforeEach(() => {
    hosts = 0;
  });
  afterEach(async () => target?.stop());

  /** A new host's copy of the fixture runbook, its ledger in PostgreSQL in chunks of 500. */
  function newHost(fixture: FixtureOptions): string {
    return pg.host(`h${(hosts += 1)}`, fixture, '      chunkSize: 500\n');
  }

  function start(as: 'run' | 'worker', file: string): RunningCli {
    return pg.startOn(file, as, target.url);
  }

  const output = (clis: RunningCli[]) => clis.map((cli) => cli.stdout() + cli.stderr()).join('\n----\n');

  /**
   * `backfill run` on one host and `workers` `backfill worker` processes on others, all working (each
   * holding a chunk) and each having taken its share at a heartbeat. The run first, the creator of the run.
   */
  async function startFleet(fixture: FixtureOptions, workers: number): Promise<RunningCli[]> {
    creatorFile = newHost(fixture);
    const run = start('run', creatorFile);
    await waitFor(() => target.arrivals.length >= 5, `the run to send: ${output([run])}`, 30_000);
    const fleet = [run, ...Array.from({ length: workers }, () => start('worker', newHost(fixture)))];
    const deadline = Date.now() + 30_000;
    const holding = async () =>
      (
        await pg.database.query(
          "SELECT id FROM backfill.workers WHERE state = 'working' AND chunk IS NOT NULL AND NOT waiting",
        )
      ).length;
    while ((await holding()) < fleet.length) {
      if (Date.now() > deadline) throw new Error(`the fleet did not start: ${output(fleet)}`);
      await sleep(200);
    }
    // Each member re-computes its share at its next heartbeat, a second at most.
    await sleep(2500);
    return fleet;
  }

  const control = (file: string, ...args: string[]) => runCli(['control', file, ...args], { env: pg.env() });

  async function statusOf(file: string) {
    const status = await runCli(['status', file, '--json', '--env', 'test'], { env: pg.env() });
    assert.equal(status.code, 0, status.stdout + status.stderr);
    return (JSON.parse(status.stdout) as FleetJson).cells.find((cell) => cell.cell === 'full')!;
  }

  /** Arrivals at the target during the next `ms` milliseconds, from every process together. */
  async function arrivalsDuring(ms: number): Promise<number> {
    const before = target.arrivals.length;
    await sleep(ms);
    return target.arrivals.length - before;
  }

  it('pause, rate and stop sent through PostgreSQL reach every worker', async () => {
    target = await startTargetServer(() => ({ delayMs: 2 }));
    const fixture = { records: 20_000, rate: RATE, concurrency: 4 };
    const fleet = await startFleet(fixture, 2);
    // A control file on any host: here a fourth host, which runs nothing.
    const file = newHost(fixture);

    // Three processes at a configured 40/s: 40/s together, not 40/s each.
    const shared = await arrivalsDuring(4000);
    assert.ok(shared >= RATE * 4 * 0.6 && shared <= RATE * 4 * 1.4, `40/s for 4 s, got ${shared}`);

    const paused = await control(file, 'pause');
    assert.equal(paused.code, 0, paused.stdout + paused.stderr);
    await sleep(1500); // applied within a second; requests in flight land
    assert.equal(await arrivalsDuring(2500), 0, 'nothing arrives from any process while paused');
    const whilePaused = await statusOf(file);
    assert.equal(whilePaused.state, 'paused');
    assert.equal(whilePaused.fleet?.alive, 3);

    assert.equal((await control(file, 'rate', '100')).code, 0);
    assert.equal((await control(file, 'resume')).code, 0);
    const [controls] = await pg.database.query<{ rate: number; paused: number }>(
      'SELECT rate, paused FROM backfill.controls',
    );
    assert.deepEqual(controls, { rate: 100, paused: 0 });
    await sleep(2500);
    const faster = await arrivalsDuring(3000);
    assert.ok(faster >= 100 * 3 * 0.6 && faster <= 100 * 3 * 1.4, `100/s for 3 s, got ${faster}`);
    // Each member sends its share (a third, 33/s), not the whole 100/s: as measured by each at its beat.
    await sleep(1500);
    const rates = (await statusOf(file)).fleet!.members.map((member) => member.rate);
    assert.equal(rates.length, 3);
    for (const rate of rates) assert.ok(rate > 0 && rate <= 100 * 0.7, `rates ${rates.join(', ')}`);

    assert.equal((await control(file, 'stop')).code, 0);
    const codes = await Promise.all(fleet.map((cli) => cli.exitedWith));
    assert.deepEqual(codes, [STOPPED, STOPPED, STOPPED], output(fleet));
    assert.equal(await arrivalsDuring(1500), 0, 'nothing arrives once stopped');
    const states = await pg.database.query<{ pid: number; state: string }>(
      'SELECT pid, state FROM backfill.workers ORDER BY pid',
    );
    assert.deepEqual(
      states,
      fleet.map((cli) => ({ pid: cli.child.pid, state: 'stopped' })).sort((a, b) => a.pid! - b.pid!),
    );
  });

  it('keeps in-flight requests at the target within the concurrency sent by backfill control', async () => {
    const LIMIT = 3;
    // Slow answers and no rate limit to speak of: the concurrency is what binds.
    target = await startTargetServer(() => ({ delayMs: 80 }));
    const fixture = { records: 20_000, rate: 100_000, concurrency: 12 };
    const fleet = await startFleet(fixture, 2);
    const file = newHost(fixture);
    assert.ok(target.maxInFlight > LIMIT, `${target.maxInFlight} in flight before the change`);

    const changed = await control(file, 'concurrency', String(LIMIT));
    assert.equal(changed.code, 0, changed.stdout + changed.stderr);
    await sleep(2500); // applied within a second; requests beyond the limit already on their way land
    target.resetMaxInFlight();
    const sent = await arrivalsDuring(4000);
    assert.ok(sent > 0, 'the fleet still sends');
    assert.ok(target.maxInFlight <= LIMIT, `${target.maxInFlight} in flight after concurrency ${LIMIT}`);
    const [controls] = await pg.database.query<{ concurrency: number }>(
      'SELECT concurrency FROM backfill.controls',
    );
    assert.equal(controls?.concurrency, LIMIT);

    assert.equal((await control(file, 'stop')).code, 0);
    assert.deepEqual(await Promise.all(fleet.map((cli) => cli.exitedWith)), [STOPPED, STOPPED, STOPPED]);
  });

  it("forwards the editor's commands (control.json on the run's host) to every worker", async () => {
    target = await startTargetServer(() => ({ delayMs: 2 }));
    const fleet = await startFleet({ records: 20_000, rate: RATE, concurrency: 4 }, 2);
    sendControl(`${creatorFile}.d`, { command: 'pause' });
    await sleep(1500);
    assert.equal(await arrivalsDuring(2500), 0, 'nothing arrives from any process while paused');
    sendControl(`${creatorFile}.d`, { command: 'stop' });
    assert.deepEqual(
      await Promise.all(fleet.map((cli) => cli.exitedWith)),
      [STOPPED, STOPPED, STOPPED],
      output(fleet),
    );
  });

  it('lists every worker in status (host, pid, chunk, last heartbeat), one killed with kill -9 as lost', async () => {
    target = await startTargetServer(() => ({ delayMs: 2 }));
    const fixture = { records: 20_000, rate: RATE, concurrency: 4 };
    const fleet = await startFleet(fixture, 3);
    const file = newHost(fixture);
    const pids = fleet.map((cli) => cli.child.pid!).sort((a, b) => a - b);

    const before = await statusOf(file);
    assert.equal(before.state, 'running');
    assert.deepEqual(
      before.fleet!.members.map((member) => member.pid).sort((a, b) => a - b),
      pids,
    );
    for (const member of before.fleet!.members) {
      assert.equal(member.host, os.hostname());
      assert.equal(member.health, 'alive');
      assert.equal(typeof member.chunk, 'number', JSON.stringify(member));
      assert.ok(!Number.isNaN(Date.parse(member.heartbeatAt)), JSON.stringify(member));
    }

    const victim = fleet[2]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    let after = await statusOf(file);
    const deadline = Date.now() + 20_000;
    while (after.fleet?.lost !== 1 && Date.now() < deadline) {
      await sleep(500);
      after = await statusOf(file);
    }
    assert.equal(after.state, 'running');
    assert.equal(after.fleet?.members.length, 4);
    assert.equal(after.fleet?.alive, 3);
    assert.deepEqual(
      after.fleet?.members.filter((member) => member.health === 'lost').map((member) => member.pid),
      [victim.child.pid],
    );
    assert.ok(after.succeeded > 0, 'totals come from the ledger');
    const text = await runCli(['status', file, '--env', 'test'], { env: pg.env() });
    assert.match(text.stdout, /fleet: 3 alive, 1 lost, 0 ended/);
    assert.match(text.stdout, new RegExp(`pid ${victim.child.pid} .*LOST`));
    for (const cli of fleet.filter((cli) => cli !== victim)) {
      assert.match(text.stdout, new RegExp(`pid ${cli.child.pid} · chunk \\d+ .*last heartbeat .*alive`));
    }

    assert.equal((await control(file, 'stop')).code, 0);
    const survivors = fleet.filter((cli) => cli !== victim);
    assert.deepEqual(await Promise.all(survivors.map((cli) => cli.exitedWith)), [STOPPED, STOPPED, STOPPED]);
  });
});
