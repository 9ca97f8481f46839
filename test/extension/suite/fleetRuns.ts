// A run whose ledger is in PostgreSQL, started from a terminal (here: the bundled CLI, as a terminal runs
// it), alone or with `backfill worker` processes joining it: the notebook shows it live from the database
// with its workers, and its stop reaches every worker through the fleet's controls.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FleetPayload } from '../../../media/renderer/payloads';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';
import {
  cellById,
  cleanUp,
  demoFixture,
  EXTENSION_ID,
  filesContaining,
  MIME,
  openRunbook,
  outputJson,
  outputText,
  posted,
  progressOf,
  TOKEN,
  waitFor,
  type Fixture,
} from './support';

const SHARED_AND_SLOW = (text: string) => {
  const shared = text
    .replace('  local:\n', '  local:\n    ledger: { type: postgres, url: "${secret:LEDGER_URL}" }\n')
    .replace('```execute id=full\njob: orders\n', '```execute id=full\njob: orders\nthrottle:\n  rate: 20\n');
  assert.notEqual(shared, text);
  return shared;
};

/** The same, its source cut into chunks of 50 records (10 of them), so that three processes each hold one. */
const SHARED_IN_CHUNKS = (text: string) => {
  const chunked = SHARED_AND_SLOW(text).replace(
    'url: "${secret:LEDGER_URL}" }',
    'url: "${secret:LEDGER_URL}", chunkSize: 50 }',
  );
  assert.match(chunked, /chunkSize: 50/);
  return chunked;
};

interface Spawned {
  child: ChildProcess;
  exited: Promise<number>;
  /** What it printed, for the messages of failed assertions. */
  output(): string;
}

/** The bundled CLI, as `backfill …` in a terminal with the secrets exported. */
function cli(args: string[], env: Record<string, string>): Spawned {
  const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
  const child = spawn(process.execPath, [path.join(extension.extensionPath, 'dist', 'cli.js'), ...args], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    exited: new Promise((resolve) => child.on('close', (code) => resolve(code ?? -1))),
    output: () => output,
  };
}

describe('a distributed run (ledger in PostgreSQL)', () => {
  let fixture: Fixture | undefined;
  let database: PostgresServer | undefined;
  let run: Spawned | undefined;
  let workers: Spawned[] = [];
  before(function () {
    if (postgresUnavailable()) this.skip();
  });
  afterEach(async () => {
    for (const spawned of [run, ...workers]) spawned?.child.kill('SIGKILL');
    await Promise.all([run, ...workers].map((spawned) => spawned?.exited));
    run = undefined;
    workers = [];
    delete process.env.LEDGER_URL;
    await cleanUp(fixture);
    fixture = undefined;
    await database?.stop();
    database = undefined;
  });

  it('shows the run live with its workers, and its stop stops every worker', async () => {
    database = await startPostgres({ password: 'pw-fleet-5c1e' });
    fixture = await demoFixture(SHARED_AND_SLOW);
    const env = { LEDGER_URL: database.url, ORDERS_API_TOKEN: TOKEN };
    const dryRun = cli(['dry-run', fixture.file, '--cell', 'preview', '--env', 'local'], env);
    assert.equal(await dryRun.exited, 0, 'the dry run passes');
    run = cli(['run', fixture.file, '--cell', 'full', '--execute', '--env', 'local', '--no-progress'], env);
    await waitFor(() => posted(fixture!.server).length >= 5, 'the run to send', 30_000);

    // The editor knows the URL as a terminal does: from its environment (or its secret storage).
    process.env.LEDGER_URL = database.url;
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'full');
    const fleetOf = () => outputJson<{ fleet?: FleetPayload }>(cell, MIME.progress)?.fleet;
    await waitFor(() => (fleetOf()?.alive ?? 0) >= 1, 'the cell to list the live worker', 30_000);
    const fleet = fleetOf()!;
    assert.equal(fleet.members[0]?.pid, run.child.pid);
    assert.equal(fleet.members[0]?.health, 'alive');
    await waitFor(() => (progressOf(cell)?.done ?? 0) >= 10, 'the done count from the ledger', 30_000);
    assert.equal(progressOf(cell)?.state, 'running');
    assert.equal(progressOf(cell)?.total, 497 - 0, outputText(cell));

    await vscode.commands.executeCommand('backfill.stop', { notebookUri: notebook.uri.toString() });
    assert.equal(await run.exited, 3, 'the run halts (stopped by the fleet control)');
    const atStop = posted(fixture.server).length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(posted(fixture.server).length, atStop, 'the target receives nothing more');
    const states = await database.query<{ state: string }>('SELECT state FROM backfill.workers');
    assert.deepEqual(
      states.map((row) => row.state),
      ['stopped'],
    );
    await waitFor(() => cell.executionSummary?.success !== undefined, 'the cell to show the end', 30_000);
    assert.equal(progressOf(cell)?.state, 'halted');
    assert.deepEqual(filesContaining(fixture.dir, 'pw-fleet-5c1e'), [], 'the password is in no file');
    assert.ok(!outputText(cell).includes('pw-fleet-5c1e'), 'nor in the cell');
  });

  it('shows a run and two workers on other hosts as one run, all three listed, and its stop stops every process', async () => {
    database = await startPostgres({ password: 'pw-fleet-5c1e' });
    fixture = await demoFixture(SHARED_IN_CHUNKS);
    const env = { LEDGER_URL: database.url, ORDERS_API_TOKEN: TOKEN };
    const dryRun = cli(['dry-run', fixture.file, '--cell', 'preview', '--env', 'local'], env);
    assert.equal(await dryRun.exited, 0, dryRun.output());
    run = cli(['run', fixture.file, '--cell', 'full', '--execute', '--env', 'local', '--no-progress'], env);
    await waitFor(() => posted(fixture!.server).length >= 5, 'the run to send', 30_000);
    // Two workers join it, each as on a host of its own: a state folder of its own (the runbook's folder
    // holds the run's), the same runbook and data, the ledger URL in the environment.
    workers = [1, 2].map((n) =>
      cli(
        ['worker', fixture!.file, '--cell', 'full', '--env', 'local', '--no-progress'].concat([
          '--state-dir',
          path.join(fixture!.dir, `host-${n}`),
        ]),
        env,
      ),
    );
    const processes = [run, ...workers];
    const outputs = () => processes.map((spawned) => spawned.output()).join('\n----\n');

    process.env.LEDGER_URL = database.url;
    const notebook = await openRunbook(fixture.uri);
    const cell = cellById(notebook, 'full');
    const fleetOf = () => outputJson<{ fleet?: FleetPayload }>(cell, MIME.progress)?.fleet;
    await waitFor(
      () => (fleetOf()?.alive ?? 0) === 3,
      `the cell to list three live members: ${JSON.stringify(fleetOf())} ${outputs()}`,
      60_000,
    );
    const members = fleetOf()!.members;
    assert.deepEqual(
      members.map((member) => member.pid).sort((a, b) => a - b),
      processes.map((spawned) => spawned.child.pid!).sort((a, b) => a - b),
      'the members are the three processes',
    );
    assert.deepEqual(
      members.map((member) => member.health),
      ['alive', 'alive', 'alive'],
    );
    const before = progressOf(cell)?.done ?? 0;
    await waitFor(() => (progressOf(cell)?.done ?? 0) > before, 'the done count to grow', 30_000);
    assert.equal(progressOf(cell)?.state, 'running');

    // The cell's stop button.
    await vscode.commands.executeCommand('backfill.stop', { notebookUri: notebook.uri.toString() });
    assert.deepEqual(
      await Promise.all(processes.map((spawned) => spawned.exited)),
      [3, 3, 3],
      `every process halts, stopped by the fleet control: ${outputs()}`,
    );
    const atStop = posted(fixture.server).length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(posted(fixture.server).length, atStop, 'the target receives nothing more');
    const states = await database.query<{ pid: number; state: string }>(
      'SELECT pid, state FROM backfill.workers ORDER BY pid',
    );
    assert.deepEqual(
      states,
      processes
        .map((spawned) => ({ pid: spawned.child.pid!, state: 'stopped' }))
        .sort((a, b) => a.pid - b.pid),
    );
    await waitFor(() => cell.executionSummary?.success !== undefined, 'the cell to show the end', 30_000);
    assert.equal(progressOf(cell)?.state, 'halted');
    assert.deepEqual(filesContaining(fixture.dir, 'pw-fleet-5c1e'), [], 'the password is in no file');
  });
});
