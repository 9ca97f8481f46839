// A run whose ledger is in PostgreSQL, started from a terminal (here: the bundled CLI, as a terminal runs
// it): the notebook shows it live from the database with its workers, and its stop reaches every worker
// through the fleet's controls.
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

/** The bundled CLI, as `backfill …` in a terminal with the secrets exported. */
function cli(args: string[], env: Record<string, string>): { child: ChildProcess; exited: Promise<number> } {
  const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
  const child = spawn(process.execPath, [path.join(extension.extensionPath, 'dist', 'cli.js'), ...args], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...env },
    stdio: 'ignore',
  });
  return { child, exited: new Promise((resolve) => child.on('close', (code) => resolve(code ?? -1))) };
}

describe('a distributed run (ledger in PostgreSQL)', () => {
  let fixture: Fixture | undefined;
  let database: PostgresServer | undefined;
  let run: { child: ChildProcess; exited: Promise<number> } | undefined;
  before(function () {
    if (postgresUnavailable()) this.skip();
  });
  afterEach(async () => {
    run?.child.kill('SIGKILL');
    run = undefined;
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
});
