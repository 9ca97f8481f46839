import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sendControl } from '../../src/core/run/control';
import { runCli, tempDir } from '../support/cli';
import { sleep, startCli, waitFor, type RunningCli } from '../support/cliProcess';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgresServer.mjs';
import { writeSharedLedgerRunbook } from '../support/sharedLedgerRunbook';
import { startTargetServer, type TargetServer } from '../support/targetServer';

const RATE = 40;

interface MemberProcess {
  stdout(): string;
  kill(signal: NodeJS.Signals): void;
  pid: number;
  exited: Promise<number | string>;
}

/** A second member of the run's fleet (test/support/fleetMemberProcess.ts), posting to TARGET/member/N. */
function startMember(run: string, target: string, ledgerUrl: string): MemberProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(__dirname, '..', 'support', 'fleetMemberProcess.ts'),
      run,
      target,
      String(RATE),
      '4',
    ],
    { env: { ...process.env, LEDGER_URL: ledgerUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return {
    stdout: () => stdout,
    kill: (signal) => child.kill(signal),
    pid: child.pid!,
    exited: new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1))),
  };
}

interface FleetJson {
  cells: {
    cell: string;
    state: string;
    succeeded: number;
    fleet?: { alive: number; lost: number; members: { pid: number; health: string; host: string }[] };
  }[];
}

describe('a fleet sharing a PostgreSQL ledger', function () {
  this.timeout(90_000);
  let database: PostgresServer;
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;
  let file: string;
  let run: RunningCli | undefined;
  const members: MemberProcess[] = [];
  const env = () => ({ LEDGER_URL: database.url });

  before(async function () {
    if (postgresUnavailable()) this.skip();
    database = await startPostgres();
  });
  after(async () => database?.stop());
  beforeEach(async () => {
    work = tempDir('backfill-fleet-');
    target = await startTargetServer(() => ({ delayMs: 2 }));
    file = writeSharedLedgerRunbook(work.dir, { records: 20_000, rate: RATE, concurrency: 4 });
    await database.query('DROP SCHEMA IF EXISTS backfill CASCADE');
  });
  afterEach(async () => {
    run?.child.kill('SIGKILL');
    for (const member of members.splice(0)) member.kill('SIGKILL');
    await run?.exited;
    run = undefined;
    await target.stop();
    work.cleanup();
  });

  const control = (...args: string[]) => runCli(['control', file, ...args, '--env', 'test'], { env: env() });
  const items = () => target.arrivals.filter((a) => a.path.startsWith('/items/')).length;
  const fromMembers = () => target.arrivals.filter((a) => a.path.startsWith('/member/')).length;
  /** Arrivals at the target during the next `ms` milliseconds. */
  async function arrivalsDuring(ms: number): Promise<{ run: number; member: number }> {
    const before = { run: items(), member: fromMembers() };
    await sleep(ms);
    return { run: items() - before.run, member: fromMembers() - before.member };
  }

  /** Starts `backfill run` on the shared ledger and one more member of its fleet; returns the run id. */
  async function startFleet(extraMembers = 1): Promise<string> {
    const vars = ['--var', `BASE_URL=${target.url}`];
    const dryRun = await runCli(['dry-run', file, '--cell', 'preview', ...vars], { env: env() });
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    run = startCli(['run', file, '--cell', 'full', '--execute', '--no-progress', ...vars], env());
    await waitFor(() => items() >= 5, 'the run to send');
    const [running] = await database.query<{ id: string }>(
      "SELECT id FROM backfill.runs WHERE outcome = 'running'",
    );
    const id = running!.id;
    for (let i = 0; i < extraMembers; i += 1) {
      const member = startMember(id, target.url, database.url);
      members.push(member);
      await waitFor(
        () => member.stdout().includes('joined'),
        `member ${i} to join: ${member.stdout()}`,
        30_000,
      );
    }
    const working = async () =>
      (await database.query("SELECT id FROM backfill.workers WHERE state = 'working'")).length;
    const deadline = Date.now() + 10_000;
    while ((await working()) < 1 + extraMembers && Date.now() < deadline) await sleep(100);
    // Each member re-computes its share at its next heartbeat, a second at most.
    await sleep(2500);
    return id;
  }

  it('shares one rate, and pause, rate and stop sent through PostgreSQL reach every member', async () => {
    await startFleet();

    // Two members at a configured 40/s: 20/s each, 40/s together — not 40/s each.
    const shared = await arrivalsDuring(4000);
    const together = shared.run + shared.member;
    assert.ok(together >= RATE * 4 * 0.7 && together <= RATE * 4 * 1.3, `40/s for 4 s, got ${together}`);
    assert.ok(shared.run > 0 && shared.member > 0, JSON.stringify(shared));
    assert.ok(shared.run <= RATE * 4 * 0.75 && shared.member <= RATE * 4 * 0.75, JSON.stringify(shared));

    const paused = await control('pause');
    assert.equal(paused.code, 0, paused.stdout + paused.stderr);
    assert.match(paused.stdout, /Sent "pause" to run .* and its 2 live members/);
    await sleep(1500); // applied within a second; requests in flight land
    assert.deepEqual(await arrivalsDuring(2500), { run: 0, member: 0 }, 'nothing arrives while paused');
    const status = await runCli(['status', file, '--json', '--env', 'test'], { env: env() });
    const full = (JSON.parse(status.stdout) as FleetJson).cells.find((cell) => cell.cell === 'full')!;
    assert.equal(full.state, 'paused');
    assert.equal(full.fleet?.alive, 2);

    assert.equal((await control('rate', '100')).code, 0);
    assert.equal((await control('resume')).code, 0);
    await sleep(2500);
    const faster = await arrivalsDuring(3000);
    const after = faster.run + faster.member;
    assert.ok(after >= 100 * 3 * 0.7 && after <= 100 * 3 * 1.3, `100/s for 3 s, got ${after}`);
    assert.ok(faster.run > 0 && faster.member > 0, JSON.stringify(faster));

    assert.equal((await control('stop')).code, 0);
    const [runExit, memberExit] = await Promise.all([run!.exitedWith, members[0]!.exited]);
    assert.notEqual(runExit, 'SIGKILL');
    assert.equal(memberExit, 0);
    assert.deepEqual(await arrivalsDuring(1500), { run: 0, member: 0 }, 'nothing arrives once stopped');
    const states = await database.query<{ state: string }>(
      'SELECT state FROM backfill.workers ORDER BY state',
    );
    assert.deepEqual(
      states.map((row) => row.state),
      ['stopped', 'stopped'],
    );
  });

  it("forwards the editor's commands (control.json on the run's host) to every member", async () => {
    await startFleet();
    sendControl(`${file}.d`, { command: 'pause' });
    await sleep(1500);
    assert.deepEqual(await arrivalsDuring(2500), { run: 0, member: 0 }, 'nothing arrives while paused');
    sendControl(`${file}.d`, { command: 'stop' });
    const [runExit, memberExit] = await Promise.all([run!.exitedWith, members[0]!.exited]);
    assert.equal(runExit, 3);
    assert.equal(memberExit, 0);
  });

  it('stops only the process of its own host on the halt file; the rest of the fleet carries on', async () => {
    await startFleet();
    fs.writeFileSync(`${file}.halt`, '');
    assert.equal(await run!.exitedWith, 3);
    await sleep(1000); // its last requests, already on their way, land
    const carryingOn = await arrivalsDuring(2000);
    assert.equal(carryingOn.run, 0);
    assert.ok(carryingOn.member > 0, 'the other member still sends');
    const states = await database.query<{ pid: number; state: string }>(
      'SELECT pid, state FROM backfill.workers ORDER BY started_at',
    );
    assert.deepEqual(
      states.map((row) => row.state),
      ['stopped', 'working'],
    );
    fs.rmSync(`${file}.halt`);
    assert.equal((await control('stop')).code, 0);
    assert.equal(await members[0]!.exited, 0);
  });

  it('lists every member in status, one killed with kill -9 as lost', async () => {
    await startFleet(2);
    const [victim, survivor] = [members[0]!, members[1]!];
    // Three members at 40/s: a third each...
    await waitFor(
      () => survivor.stdout().includes(`rate ${RATE / 3}\n`),
      `a third of the rate: ${survivor.stdout()}`,
    );
    victim.kill('SIGKILL');
    await victim.exited;
    const statusOf = async () => {
      const status = await runCli(['status', file, '--json', '--env', 'test'], { env: env() });
      assert.equal(status.code, 0, status.stderr);
      return (JSON.parse(status.stdout) as FleetJson).cells.find((cell) => cell.cell === 'full')!;
    };
    let full = await statusOf();
    const deadline = Date.now() + 20_000;
    while (full.fleet?.lost !== 1 && Date.now() < deadline) {
      await sleep(500);
      full = await statusOf();
    }
    assert.equal(full.state, 'running');
    assert.equal(full.fleet?.members.length, 3);
    assert.equal(full.fleet?.alive, 2);
    const lost = full.fleet?.members.filter((member) => member.health === 'lost');
    assert.deepEqual(
      lost?.map((member) => member.pid),
      [victim.pid],
    );
    assert.ok(full.succeeded > 0, 'totals come from the ledger');
    // ...and half each once one is lost: the survivors take its share.
    await waitFor(
      () => survivor.stdout().endsWith(`rate ${RATE / 2}\n`),
      `half the rate: ${survivor.stdout()}`,
    );
    const text = await runCli(['status', file, '--env', 'test'], { env: env() });
    assert.match(text.stdout, /fleet: 2 alive, 1 lost, 0 ended/);
    assert.match(text.stdout, new RegExp(`pid ${victim.pid} .*LOST`));
    assert.equal((await control('stop')).code, 0);
    await run!.exited;
  });
});
