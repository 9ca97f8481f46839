import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { runCli, tempDir } from '../support/cli';
import { startCli, waitFor } from '../support/cliProcess';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('monitoring and controlling a run', function () {
  this.timeout(60_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer | undefined;

  beforeEach(() => (work = tempDir()));
  afterEach(async () => {
    await target?.stop();
    target = undefined;
    work.cleanup();
  });

  it('reports live status, Prometheus metrics and JSON Lines events while it runs', async () => {
    target = await startTargetServer((arrival) =>
      arrival.key === 'k00005' ? { status: 500 } : { delayMs: 5 },
    );
    // Slow enough (13 s to go when the checks start) that a loaded machine cannot finish the run before
    // status and /metrics are read; sped up afterwards with `control rate`.
    const file = writeFixtureRunbook(work.dir, { records: 150, rate: 10, concurrency: 2, retries: 0 });
    const dryRun = await runCli(['dry-run', file, '--var', `BASE_URL=${target.url}`]);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    const port = await freePort();
    const events = path.join(work.dir, 'events.jsonl');
    const run = startCli([
      'run', file, '--cell', 'full', '--execute', '--var', `BASE_URL=${target.url}`,
      '--events', events, '--metrics-port', String(port),
    ]); // prettier-ignore
    await waitFor(() => target!.arrivals.length >= 20, 'a part of the run');

    const status = JSON.parse((await runCli(['status', file, '--json'])).stdout);
    const full = status.cells.find((c: { cell: string }) => c.cell === 'full');
    assert.equal(full.state, 'running');
    assert.equal(full.total, 150);
    assert.ok(full.live.done > 0 && full.live.done <= 150);
    assert.ok(full.live.rate.now > 0);
    assert.equal(full.live.rate.configured, 10);
    assert.ok(full.live.latencyMs.p95 >= full.live.latencyMs.p50);
    assert.equal(full.live.errorsByKind['http-5xx'], 1);
    assert.equal(typeof full.live.etaSeconds, 'number');

    const metrics = await get(`http://127.0.0.1:${port}/metrics`);
    assert.match(metrics, /^backfill_records_total\{cell="full",run="[^"]+",status="succeeded"\} \d+$/m);
    assert.match(metrics, /^backfill_records_total\{cell="full",run="[^"]+",status="failed"\} 1$/m);
    assert.match(
      metrics,
      /^backfill_rate_records_per_second\{cell="full",run="[^"]+",kind="configured"\} 10$/m,
    );
    assert.equal((await runCli(['control', file, 'rate', '1000'])).code, 0);

    assert.equal(await run.exited, 0, run.stderr());
    const lines = fs
      .readFileSync(events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const types = lines.map((e: { type: string }) => e.type);
    assert.equal(types[0], 'start');
    assert.equal(types[types.length - 1], 'finish');
    assert.ok(types.filter((t: string) => t === 'progress').length >= 2);
    const error = lines.find((e: { type: string }) => e.type === 'error');
    assert.deepEqual([error.key, error.kind, error.httpStatus], ['k00005', 'http-5xx', 500]);
    assert.equal(lines[lines.length - 1].status.succeeded, 149);
  });

  it('shows latency rounded to 0.1 ms in status and status --json while it runs', async () => {
    target = await startTargetServer(() => ({ delayMs: 7 }));
    const file = writeFixtureRunbook(work.dir, { records: 60, rate: 5, concurrency: 1 });
    const run = startCli(['run', file, '--cell', 'full', '--execute', '--var', `BASE_URL=${target.url}`]);
    await waitFor(() => target!.arrivals.length >= 3, 'the first records');
    const text = (await runCli(['status', file])).stdout;
    assert.match(text, /latency p50 \d+(\.\d)? ms, p95 \d+(\.\d)? ms/, text);
    const status = JSON.parse((await runCli(['status', file, '--json'])).stdout);
    const live = status.cells.find((c: { cell: string }) => c.cell === 'full').live;
    for (const ms of Object.values(live.latencyMs) as number[]) {
      assert.ok(Number.isInteger(Math.round(ms * 10 * 1e6) / 1e6), `latency ${ms} rounded to 0.1 ms`);
    }
    assert.equal(await runCli(['control', file, 'stop']).then((r) => r.code), 0);
    assert.equal(await run.exited, 3, run.stderr());
  });

  it('runs detached in its own process and is watched with status until it finishes', async () => {
    target = await startTargetServer();
    const file = writeFixtureRunbook(work.dir, { records: 100, rate: 100, concurrency: 2 });
    const started = await runCli([
      'run',
      file,
      '--cell',
      'full',
      '--execute',
      '--detach',
      '--var',
      `BASE_URL=${target.url}`,
    ]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /Started in the background \(pid \d+\)/);
    await waitFor(() => target!.arrivals.length === 100, 'the detached run to send everything');
    let state = '';
    await waitFor(() => {
      const { stdout } = fs.existsSync(`${file}.d/status.json`)
        ? { stdout: fs.readFileSync(`${file}.d/status.json`, 'utf8') }
        : { stdout: '{}' };
      state = (JSON.parse(stdout) as { state?: string }).state ?? '';
      return state === 'finished';
    }, 'the detached run to finish');
    const status = JSON.parse((await runCli(['status', file, '--json'])).stdout);
    const full = status.cells.find((c: { cell: string }) => c.cell === 'full');
    assert.equal(full.outcome, 'succeeded');
    assert.equal(full.succeeded, 100);
    assert.ok(fs.existsSync(path.join(`${file}.d`, 'run.log')));
  });

  it('stops at once while a request hangs, records no outcome for it, and resumes it', async () => {
    let hang = true;
    target = await startTargetServer((arrival) => (hang && arrival.key === 'k00003' ? { hang: true } : {}));
    const file = writeFixtureRunbook(work.dir, { records: 50, rate: 10, concurrency: 2, timeoutMs: 4000 });
    const run = startCli(['run', file, '--cell', 'full', '--execute', '--var', `BASE_URL=${target.url}`]);
    await waitFor(() => target!.arrivals.some((a) => a.key === 'k00003'), 'the hanging request');
    assert.equal((await runCli(['control', file, 'stop'])).code, 0);
    assert.equal(await run.exited, 3, run.stderr());
    const sentBeforeStop = target.arrivals.length;
    assert.ok(sentBeforeStop < 50);
    const pending = await runCli(['ledger', file, '--status', 'pending', '--format', 'jsonl']);
    const pendingKeys = pending.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).key);
    assert.ok(pendingKeys.includes('k00003'), 'the hanging record has no outcome');
    hang = false;
    const resumed = await runCli([
      'run',
      file,
      '--cell',
      'full',
      '--execute',
      '--var',
      `BASE_URL=${target.url}`,
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const keys = [...target.countsByKey().keys()].sort();
    assert.deepEqual(
      keys,
      Array.from({ length: 50 }, (_, i) => keyOf(i + 1)),
    );
  });

  it('sends exactly the subset an execute cell selects', async () => {
    target = await startTargetServer();
    const file = writeFixtureRunbook(work.dir, {
      records: 60,
      executeExtra: 'subset:\n  keys: [k00002, k00010, k00011, k00059, k00060]\n  exclude: [k00011]\n',
    });
    const result = await runCli([
      'run',
      file,
      '--cell',
      'full',
      '--execute',
      '--var',
      `BASE_URL=${target.url}`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual([...target.countsByKey().keys()].sort(), ['k00002', 'k00010', 'k00059', 'k00060']);
  });

  it('refuses control when nothing is running, with a clear message', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 3 });
    const result = await runCli(['control', file, 'pause']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no backfill of .* is running/);
    const badRate = await runCli(['control', file, 'rate', 'fast']);
    assert.equal(badRate.code, 2);
  });
});
