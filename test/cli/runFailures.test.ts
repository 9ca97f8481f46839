import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { startCli, waitFor } from '../support/cliProcess';
import { cliWorkspace, ledgerRows } from '../support/cliWorkspace';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer } from '../support/targetServer';

interface Failure {
  reason: string;
  count: number;
  key: string;
}

interface StatusJson {
  cells: { cell: string; failures?: Failure[] }[];
}

/** Why records failed is shown where people look: the summary, status, --json, the events, the result block. */
describe('backfill run failure reasons', function () {
  this.timeout(120_000);
  const work = cliWorkspace();

  const fullArgs = (file: string, url: string, ...extra: string[]) => [
    'run', file, '--cell', 'full', '--var', `BASE_URL=${url}`, '--execute', ...extra,
  ]; // prettier-ignore
  const runFull = (file: string, url: string, ...extra: string[]) => runCli(fullArgs(file, url, ...extra));

  const failedKeys = async (file: string) =>
    (await ledgerRows(file, { cell: 'full', status: 'failed' })).map((row) => row.key);

  it('says why a run halted after connection failures, with a count and a sample key, everywhere', async () => {
    // A port nobody listens on any more: every request is refused.
    const gone = await startTargetServer();
    const url = gone.url;
    await gone.stop();
    const port = new URL(url).port;
    const file = writeFixtureRunbook(work.dir, { records: 80, retries: 0, concurrency: 1 });
    const events = path.join(work.dir, 'events.jsonl');
    const run = await runFull(file, url, '--events', events);
    assert.equal(run.code, 3, run.stdout + run.stderr);

    const failed = await failedKeys(file);
    assert.equal(failed.length, 50, 'the default error budget halts after 50 consecutive failures');
    const reason = `connection refused (127.0.0.1:${port})`;
    const summary = new RegExp(
      `Failures: 50 × connection refused \\(127\\.0\\.0\\.1:${port}\\) — e\\.g\\. key (k\\d+)`,
    );
    const sample = summary.exec(run.stdout)?.[1];
    assert.ok(sample && failed.includes(sample), run.stdout);

    const status = await runCli(['status', file]);
    assert.match(
      status.stdout,
      new RegExp(`failures: 50 × connection refused \\(127\\.0\\.0\\.1:${port}\\) — e\\.g\\. key k\\d+`),
    );
    const json = JSON.parse((await runCli(['status', file, '--json'])).stdout) as StatusJson;
    const [top] = json.cells.find((cell) => cell.cell === 'full')!.failures!;
    assert.deepEqual({ ...top, key: undefined }, { reason, count: 50, key: undefined });
    assert.ok(failed.includes(top!.key));

    const finish = fs
      .readFileSync(events, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; status?: { failures?: Failure[] } })
      .find((event) => event.type === 'finish')!;
    assert.equal(finish.status!.failures![0]!.reason, reason);
    assert.equal(finish.status!.failures![0]!.count, 50);

    const block = /```result for=full\n([\s\S]*?)```/.exec(fs.readFileSync(file, 'utf8'))![1]!;
    assert.match(
      block,
      new RegExp(
        `failures:\\n  - 50 × connection refused \\(127\\.0\\.0\\.1:${port}\\) — e\\.g\\. key k\\d+\\n`,
      ),
    );
  });

  it('ranks the reasons by count, one sample key each, the record key left out of the reason', async () => {
    const server = await work.serve((arrival) => {
      const i = Number(arrival.key.slice(1));
      return i % 3 === 0 ? { status: 404 } : i % 5 === 0 ? { status: 500 } : {};
    });
    const file = writeFixtureRunbook(work.dir, { records: 30, retries: 0, threshold: 0 });
    const run = await runFull(file, server.url, '--json');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const sentWith = (status: number) =>
      server.arrivals
        .map((arrival) => Number(arrival.key.slice(1)))
        .filter((i) => (status === 404 ? i % 3 === 0 : i % 3 !== 0 && i % 5 === 0))
        .map(keyOf);
    const result = JSON.parse(run.stdout) as { status: { failures: Failure[] } };
    const [notFound, serverError, ...rest] = result.status.failures;
    assert.deepEqual(rest, []);
    assert.equal(notFound!.reason, 'HTTP 404 Not Found: {"key":"…"}');
    assert.equal(notFound!.count, 10);
    assert.equal(sentWith(404).length, 10);
    assert.ok(sentWith(404).includes(notFound!.key));
    assert.equal(serverError!.reason, 'HTTP 500 Internal Server Error: {"key":"…"}');
    assert.equal(serverError!.count, 4);
    assert.deepEqual(sentWith(500).sort(), [keyOf(5), keyOf(10), keyOf(20), keyOf(25)]);
    assert.ok(sentWith(500).includes(serverError!.key));
  });

  it('judges a re-send of the failed records on its own records, and names the keys that failed again', async () => {
    let fixed = false;
    const server = await work.serve((arrival) => {
      if (!fixed) return [keyOf(3), keyOf(5), keyOf(7)].includes(arrival.key) ? { status: 500 } : {};
      return arrival.key === keyOf(5) ? { status: 404 } : {};
    });
    const file = writeFixtureRunbook(work.dir, { records: 100, retries: 0, threshold: 0.9 });
    const run = (...extra: string[]) => runFull(file, server.url, ...extra);
    const first = await run();
    assert.equal(first.code, 0, first.stdout + first.stderr);
    // Named in the order they failed, which four sends at a time do not fix.
    assert.match(first.stdout, /Failed records \(first 3\):\n(?: {4}key k0000[357]: HTTP 500[^\n]*\n){3}/);
    for (const key of [keyOf(3), keyOf(5), keyOf(7)])
      assert.ok(first.stdout.includes(`key ${key}: HTTP 500`));

    fixed = true;
    const resent = await run('--only', 'failed');
    // 99 of the chain's 100 records are right now, but one of the three re-sent failed again.
    assert.equal(resent.code, 1, resent.stdout + resent.stderr);
    assert.match(resent.stdout, /Run below-threshold\./);
    assert.match(resent.stdout, /99 succeeded, 1 failed, 0 rejected/, 'the chain counts after the re-send');
    assert.match(
      resent.stdout,
      /66\.67 % of the 3 records sent succeeded, below the successThreshold of 90 %/,
    );
    assert.match(resent.stdout, /Failed records \(first 1\):\n {4}key k00005: HTTP 404 Not Found/);
    assert.deepEqual(await failedKeys(file), [keyOf(5)]);
    assert.deepEqual(
      server.arrivals.filter((arrival) => arrival.key === keyOf(5)).length,
      2,
      'k00005 was sent once more, and failed',
    );
  });

  it('carries the top failure reasons in the live status and the progress events while the run goes on', async () => {
    const failing = [1, 2, 3, 4, 5].map(keyOf);
    const server = await work.serve((arrival) =>
      failing.includes(arrival.key) ? { status: 500 } : arrival.key === keyOf(10) ? { hang: true } : {},
    );
    // One at a time: the five failures, four successes, then k00010 holds the run open.
    const file = writeFixtureRunbook(work.dir, {
      records: 20,
      retries: 0,
      concurrency: 1,
      timeoutMs: 60_000,
    });
    const events = path.join(work.dir, 'events.jsonl');
    const statusFile = `${file}.d/status.json`;
    const run = startCli(fullArgs(file, server.url, '--events', events));
    type Live = { state: string; failed: number; failures?: Failure[] };
    const readLive = (): Live | undefined => {
      try {
        return JSON.parse(fs.readFileSync(statusFile, 'utf8')) as Live;
      } catch {
        return undefined;
      }
    };
    const progress = (): Live[] =>
      fs.existsSync(events)
        ? fs
            .readFileSync(events, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as { type: string; status?: Live })
            .filter((event) => event.type === 'progress' && event.status?.failures)
            .map((event) => event.status!)
        : [];
    try {
      await waitFor(() => server.arrivals.some((arrival) => arrival.key === keyOf(10)), 'k00010 to hold');
      await waitFor(() => readLive()?.failures?.[0]?.count === 5, 'the live status to count five failures');
      await waitFor(() => progress().some((status) => status.failures![0]!.count === 5), 'a progress event');
      const live = readLive()!;
      assert.equal(live.state, 'running');
      assert.equal(live.failed, 5);
      assert.deepEqual(
        live.failures!.map(({ reason, count }) => ({ reason, count })),
        [{ reason: 'HTTP 500 Internal Server Error: {"key":"…"}', count: 5 }],
      );
      assert.ok(failing.includes(live.failures![0]!.key), live.failures![0]!.key);
      const event = progress().find((status) => status.failures![0]!.count === 5)!;
      assert.equal(event.state, 'running');
      assert.deepEqual(event.failures, live.failures);
      // Still running: the events say nothing of a finish yet.
      assert.ok(!fs.readFileSync(events, 'utf8').includes('"type":"finish"'));
    } finally {
      // A graceful stop would wait out the held request; nothing here depends on how the run ends.
      run.child.kill('SIGKILL');
      await run.exitedWith;
    }
  });
});
