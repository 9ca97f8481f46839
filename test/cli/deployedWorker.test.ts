import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, REPO, allFiles, runCli, tempDir } from '../support/cli';
import { killAll, sleep, startCli, watchCli, type RunningCli } from '../support/cliProcess';
import { freePort } from '../support/freePort.mjs';
import { listeningAddresses } from '../support/listeningSockets';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgresServer.mjs';
import { startTargetServer, type TargetServer } from '../support/targetServer';
import { workerArgs, workerEnvironment } from '../support/workerCommand';

const PASSWORD = 'deployed-CANARY-4k8x';
const EXAMPLE = path.join(REPO, 'deploy', 'example');
const RECORDS = 3000;
const keyOf = (i: number) => `o-${String(i).padStart(5, '0')}`;
/** The line of record `key` in exampleHost's CSV, the header being line 1: what chunks are cut by. */
const lineOf = (key: string) => Number(key.slice(2)) + 1;

/**
 * Who the worker runs as: the deploy files run it as a user that cannot write the runbook's folder
 * (the image's `node`, systemd's DynamicUser). Root writes through any mode, so as root it is `nobody`.
 */
function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Starts dist/cli.js with exactly `env` (nothing inherited), as `user`, in `cwd`. */
function startAs(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  user = unprivileged(),
): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...user,
  });
  return watchCli(child);
}

/**
 * deploy/example's runbook on a "host" folder: its records (RECORDS of them) and its billing URL pointed
 * at the local target, as a team's own copy of the example would be. Everything else is the shipped file.
 */
function exampleHost(dir: string, billingUrl: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const text = fs.readFileSync(path.join(EXAMPLE, 'orders.backfill'), 'utf8');
  const pointed = text.replace('BILLING_URL: https://billing.internal.example', `BILLING_URL: ${billingUrl}`);
  assert.notEqual(pointed, text, 'the example runbook no longer has the billing URL this test points');
  fs.writeFileSync(path.join(dir, 'orders.backfill'), pointed);
  const rows = Array.from({ length: RECORDS }, (_, i) => `${keyOf(i + 1)},${i + 1}.5`);
  fs.writeFileSync(path.join(dir, 'orders.csv'), ['id,amount', ...rows].join('\n') + '\n');
  return path.join(dir, 'orders.backfill');
}

describe("backfill worker as deploy/ starts it: a read-only runbook folder, only the manifests' environment", function () {
  this.timeout(300_000);
  let database: PostgresServer;
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer | undefined;
  const started: RunningCli[] = [];

  before(async function () {
    if (postgresUnavailable()) this.skip();
    database = await startPostgres({ password: PASSWORD });
  });
  after(async () => database?.stop());
  beforeEach(() => {
    work = tempDir('backfill-deployed-');
    // The unprivileged worker must reach its folders through the temporary one.
    fs.chmodSync(work.dir, 0o755);
  });
  afterEach(async () => {
    await killAll(started);
    await target?.stop();
    work.cleanup();
  });

  it("joins the run and delivers its share from a state folder outside the runbook's, its metrics scraped where it was told; without one it is refused with the fix", async () => {
    // Answers slowly until the worker's metrics are read, so the run's creator cannot finish the run alone
    // and the worker is still at work when it is paused to be scraped.
    let scraped = false;
    target = await startTargetServer(() => ({ delayMs: scraped ? 0 : 300 }));
    const creatorFile = exampleHost(path.join(work.dir, 'creator'), target.url);
    const runbookDir = path.join(work.dir, 'runbook');
    const workerFile = exampleHost(runbookDir, target.url);
    fs.chmodSync(runbookDir, 0o555);
    const stateDir = path.join(work.dir, 'state');
    fs.mkdirSync(stateDir, { mode: 0o777 });
    fs.chmodSync(stateDir, 0o777);

    // The creator, on a host of its own: dry run, then the production run (after every gate).
    const creatorEnv = { LEDGER_URL: database.url };
    const dryRun = await runCli(['dry-run', creatorFile, '--cell', 'resend', '--env', 'production'], {
      env: creatorEnv,
    });
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    const creator = startCli(
      ['run', creatorFile, '--cell', 'resend', '--env', 'production', '--execute', '--production'].concat([
        '--confirm',
        'orders-billing',
        '--no-progress',
      ]),
      creatorEnv,
    );
    started.push(creator);
    await waitForDatabase(async () => (await chunkHolders()).length > 0, 'the run to be split into chunks');

    // Today's deploy files without a state folder elsewhere: the runbook's folder refuses it, and the
    // message names the way out.
    const refused = startAs(
      workerArgs(workerFile, 'resend', 'production', { host: '127.0.0.1', port: String(await freePort()) }),
      { LEDGER_URL: database.url },
      '/',
    );
    started.push(refused);
    assert.equal(await refused.exitedWith, 2, refused.stdout() + refused.stderr());
    assert.match(
      refused.stderr(),
      /orders\.backfill\.d: permission denied \(EACCES\).*--state-dir DIR or BACKFILL_STATE_DIR=DIR/,
    );

    // Exactly the manifests' command line and environment, nothing inherited; its metrics on 127.0.0.1
    // (where tests may listen) instead of the manifests' 0.0.0.0, through the same options.
    const metricsPort = await freePort();
    const worker = startAs(
      workerArgs(workerFile, 'resend', 'production', { host: '127.0.0.1', port: String(metricsPort) }),
      workerEnvironment(database.url, stateDir),
      runbookDir,
    );
    started.push(worker);
    await waitForDatabase(
      async () => (await chunkHolders()).includes(String(worker.child.pid)),
      'the worker to claim a chunk',
    );

    // Its metrics, paused so they hold still: the attempt histogram counts what the target received from
    // this worker — the records of the chunks it held — and nothing of the creator's.
    const fromWorker = async () => {
      const chunks = await workerChunks(worker.child.pid!);
      return target!.arrivals.filter(({ path: url }) => {
        const line = lineOf(url.split('/').at(-2)!);
        return chunks.some((chunk) => line >= chunk.first && line <= chunk.last);
      }).length;
    };
    await waitForDatabase(async () => (await fromWorker()) >= 5, 'the worker to send');
    const control = (action: string) =>
      runCli(['control', creatorFile, action, '--env', 'production'], { env: creatorEnv });
    assert.equal((await control('pause')).code, 0);
    assert.deepEqual(listeningAddresses(metricsPort), ['127.0.0.1'], 'its metrics listen where it was told');
    let metrics = '';
    let counted: number | undefined;
    await waitForDatabase(async () => {
      metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      counted = Number(metrics.match(/^backfill_attempt_duration_seconds_count\{[^}]*\} (\d+)$/m)?.[1]);
      return counted === (await fromWorker());
    }, 'the histogram count to equal what the target received from the worker').catch((error: Error) => {
      throw new Error(`${error.message}: ${counted} counted${metrics ? '' : ' (no metrics)'}`);
    });
    assert.ok(counted! >= 5, `${counted}`);
    assert.doesNotMatch(metrics, /CANARY/, 'the metrics carry no secret');
    scraped = true;
    assert.equal((await control('resume')).code, 0);

    const codes = await Promise.all([creator.exitedWith, worker.exitedWith]);
    const outputs = [creator, worker].map((cli) => cli.stdout() + cli.stderr());
    assert.deepEqual(codes, [0, 0], outputs.join('\n----\n'));

    // The target got every record once; the ledger holds each as succeeded, under the key that arrived.
    // The example's URL is /orders/ID/resend: the record's key is the segment before the last.
    const sent = target.arrivals.map((arrival) => ({ key: arrival.path.split('/').at(-2)!, arrival }));
    const expected = Array.from({ length: RECORDS }, (_, i) => keyOf(i + 1));
    assert.deepEqual([...new Set(sent.map(({ key }) => key))].sort(), expected);
    assert.equal(sent.length, RECORDS, 'no record was sent twice');
    const rows = await database.query<{ key: string; status: string; idempotency_key: string }>(
      `SELECT r.key, r.status, r.idempotency_key FROM backfill.records r
         JOIN backfill.chains c ON c.id = r.chain WHERE c.ledger = 'orders-billing'`,
    );
    assert.equal(rows.filter((row) => row.status === 'succeeded').length, RECORDS);
    const sentUnder = new Map(sent.map(({ key, arrival }) => [key, arrival.idempotencyKey]));
    for (const row of rows) assert.equal(sentUnder.get(row.key), row.idempotency_key, row.key);
    const done = await database.query<{ worker: string }>(
      "SELECT split_part(worker, ':', 2) AS worker FROM backfill.chunks WHERE state = 'done'",
    );
    assert.ok(
      done.some((chunk) => chunk.worker === String(worker.child.pid)),
      `the worker finished no chunk: ${JSON.stringify(done)}`,
    );

    // Its state folder is where it was told; the read-only folder still holds only the runbook and data.
    assert.deepEqual(fs.readdirSync(runbookDir).sort(), ['orders.backfill', 'orders.csv']);
    assert.ok(
      fs.existsSync(path.join(stateDir, 'orders.backfill.d', 'status.json')),
      allFiles(stateDir).join(),
    );
    for (const file of allFiles(stateDir)) assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /CANARY/, file);
    for (const output of outputs) assert.doesNotMatch(output, /CANARY/);
  });

  /** Pids of the processes that hold or held a chunk of the run (none before it is split). */
  async function chunkHolders(): Promise<string[]> {
    const exists = await database.query<{ t: string | null }>("SELECT to_regclass('backfill.chunks') AS t");
    if (exists[0]?.t === null) return [];
    const rows = await database.query<{ pid: string }>(
      "SELECT DISTINCT split_part(worker, ':', 2) AS pid FROM backfill.chunks WHERE worker IS NOT NULL",
    );
    return rows.map((row) => row.pid);
  }

  /** The source lines of the chunks process `pid` holds or held. */
  async function workerChunks(pid: number): Promise<{ first: number; last: number }[]> {
    const rows = await database.query<{ first_line: string; last_line: string }>(
      "SELECT first_line, last_line FROM backfill.chunks WHERE split_part(worker, ':', 2) = $1",
      [String(pid)],
    );
    return rows.map((row) => ({ first: Number(row.first_line), last: Number(row.last_line) }));
  }

  /** Polls the database until `condition` holds. */
  async function waitForDatabase(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }
});
