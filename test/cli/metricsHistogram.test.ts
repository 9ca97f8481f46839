import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli, tempDir } from '../support/cli';
import { sleep, startCli, waitFor, type RunningCli } from '../support/cliProcess';
import { freePort } from '../support/freePort.mjs';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgresServer.mjs';
import { keyOf, usePostgresLedger, writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

/** The attempt-latency histogram served on 127.0.0.1:PORT/metrics: its series, and one bucket by `le`. */
async function scrapeHistogram(port: number) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const series = (suffix: string) =>
    [
      ...text.matchAll(new RegExp(`^backfill_attempt_duration_seconds_${suffix}\\{[^}]*\\} (\\S+)$`, 'gm')),
    ].map((match) => Number(match[1]));
  const bucket = (le: string) => {
    const match = text.match(
      new RegExp(
        `^backfill_attempt_duration_seconds_bucket\\{[^}]*le="${le.replace('+', '\\+')}"\\} (\\S+)$`,
        'm',
      ),
    );
    return match ? Number(match[1]) : undefined;
  };
  return { text, series, bucket };
}

describe('the metrics endpoint', function () {
  this.timeout(60_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;
  beforeEach(async () => {
    work = tempDir('backfill-metrics-');
    // Every answer takes 30 ms or more: no attempt belongs in the buckets up to 25 ms.
    target = await startTargetServer(() => ({ delayMs: 30 }));
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  it('exposes attempt latency as a Prometheus histogram whose counts are the records sent', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 400, rate: 50, concurrency: 2, retries: 0 });
    const vars = ['--var', `BASE_URL=${target.url}`];
    assert.equal((await runCli(['dry-run', file, ...vars])).code, 0);
    const port = await freePort();
    const args = [
      'run',
      file,
      '--cell',
      'full',
      '--execute',
      '--no-progress',
      '--metrics-port',
      String(port),
    ];
    const run = startCli([...args, ...vars]);
    try {
      await waitFor(() => target.arrivals.length >= 30, 'a part of the run');
      assert.equal((await runCli(['control', file, 'pause'])).code, 0);
      await sleep(1500); // the pause applies and the requests in flight are answered

      const { text, series, bucket } = await scrapeHistogram(port);
      const sent = target.arrivals.length;
      assert.match(text, /^# TYPE backfill_attempt_duration_seconds histogram$/m);
      assert.deepEqual(series('count'), [sent]);
      assert.equal(bucket('+Inf'), sent);
      assert.equal(bucket('0.025'), 0);
      assert.equal(bucket('10'), sent);
      const cumulative = series('bucket');
      assert.deepEqual(
        cumulative,
        [...cumulative].sort((a, b) => a - b),
        'buckets are cumulative',
      );
      const [sum] = series('sum');
      assert.ok(sum! >= sent * 0.03, `every attempt took 30 ms or more: sum ${sum} s for ${sent}`);
    } finally {
      await runCli(['control', file, 'stop']);
      await run.exited;
    }
  });

  it("exposes a worker's attempt latency as a Prometheus histogram whose count is what that worker sent", async function () {
    if (postgresUnavailable()) this.skip();
    const database = await startPostgres();
    const started: RunningCli[] = [];
    try {
      await sendThroughWorker(database, started);
    } finally {
      for (const cli of started) {
        if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
        await cli.exited;
      }
      await database.stop();
    }
  });

  /** A run and a worker with --metrics-port on two hosts, sharing the run through `database`. */
  async function sendThroughWorker(database: PostgresServer, started: RunningCli[]) {
    const CHUNK = 100;
    const fixture = { records: 3000, rate: 60, concurrency: 2, retries: 0 };
    const vars = ['--var', `BASE_URL=${target.url}`];
    const [creatorFile, workerFile] = ['a', 'b'].map((name) => {
      const dir = path.join(work.dir, name);
      fs.mkdirSync(dir);
      const file = writeFixtureRunbook(dir, fixture);
      usePostgresLedger(file, `      chunkSize: ${CHUNK}\n`);
      return file;
    });
    const env = { LEDGER_URL: database.url };
    const start = (args: string[]) => {
      const cli = startCli([...args, '--cell', 'full', '--no-progress'], env);
      started.push(cli);
      return cli;
    };
    start(['run', creatorFile!, '--execute', ...vars]);
    await waitFor(() => target.arrivals.length > 0, 'the run to send');
    const port = await freePort();
    const worker = start(['worker', workerFile!, '--metrics-port', String(port), ...vars]);
    const holding = async () =>
      (
        await database.query("SELECT 1 FROM backfill.chunks WHERE split_part(worker, ':', 2) = $1", [
          String(worker.child.pid),
        ])
      ).length > 0;
    for (const deadline = Date.now() + 30_000; !(await holding()); await sleep(100)) {
      if (Date.now() > deadline) throw new Error(`the worker claimed nothing: ${worker.stderr()}`);
    }
    await sleep(2000); // the worker sends a part of its chunk
    const paused = await runCli(['control', workerFile!, 'pause'], { env });
    assert.equal(paused.code, 0, paused.stdout + paused.stderr);
    await sleep(1500); // the pause applies and the requests in flight are answered

    const { text, series, bucket } = await scrapeHistogram(port);
    // What the worker attempted: the arrivals of the chunks it claimed (each claimed once: nobody died).
    const chunks = await database.query<{ n: number; claims: number }>(
      "SELECT n, claims FROM backfill.chunks WHERE split_part(worker, ':', 2) = $1",
      [String(worker.child.pid)],
    );
    assert.ok(chunks.length > 0 && chunks.every((chunk) => chunk.claims === 1), JSON.stringify(chunks));
    const ofWorker = new Set(
      chunks.flatMap((chunk) => Array.from({ length: CHUNK }, (_, i) => keyOf(chunk.n * CHUNK + i + 1))),
    );
    const fromWorker = target.arrivals.filter((arrival) => ofWorker.has(arrival.key));
    const sent = fromWorker.length;
    assert.ok(
      sent > 0 && sent < target.arrivals.length,
      `${sent} of ${target.arrivals.length}: the run sent too`,
    );
    assert.match(text, /^# TYPE backfill_attempt_duration_seconds histogram$/m);
    assert.deepEqual(series('count'), [sent]);
    assert.equal(bucket('+Inf'), sent);
    assert.equal(bucket('0.025'), 0);
    // ...and the ledger holds one attempt for each: every record the worker sent is recorded.
    await runCli(['control', workerFile!, 'stop'], { env });
    assert.equal(await worker.exitedWith, 3, worker.stdout() + worker.stderr());
    const keys = fromWorker.map((arrival) => arrival.key);
    const [recorded] = await database.query<{ attempts: number }>(
      'SELECT COALESCE(SUM(attempts), 0)::int AS attempts FROM backfill.records WHERE key = ANY($1)',
      [keys],
    );
    assert.equal(recorded?.attempts, sent);
  }
});
