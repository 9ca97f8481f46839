import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tryControlFastPath } from '../../src/cli/commands/controlCommand';
import { main } from '../../src/cli/main';
import { stateDirFor } from '../../src/core/ledger/statePaths';
import { readControl } from '../../src/core/run/control';
import { readStatus, statusFile } from '../../src/core/run/runStatus';
import { CLI, REPO, runCli, tempDir } from '../support/cli';
import { startCli, waitFor } from '../support/cliProcess';
import { writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

interface Captured {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs `run` in this process with its standard output and error captured. */
async function captured(run: () => number | undefined | Promise<number | undefined>): Promise<Captured> {
  const result: Captured = { code: undefined, stdout: '', stderr: '' };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (stream: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array) => {
      result[stream] += chunk.toString();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    result.code = await run();
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
  return result;
}

/** The full command line (commander and every command), in this process. */
const fullCli = (...args: string[]) => captured(() => main(['node', 'backfill', ...args]));

/** A status file that says a run of `file` is going on in this very process. */
function pretendRunning(file: string): void {
  fs.mkdirSync(stateDirFor(file), { recursive: true });
  fs.writeFileSync(
    statusFile(stateDirFor(file)),
    JSON.stringify({ run: 'run-1', pid: process.pid, host: os.hostname(), state: 'running' }),
  );
}

/** The dist/ bundles Node loaded for `backfill ARGS` run through the launcher, and its exit code. */
function bundlesLoadedFor(args: string[], cwd: string): Promise<{ code: number | null; bundles: string[] }> {
  const report = path.join(cwd, 'loaded.json');
  const script = `
    process.argv.splice(1, 0, ${JSON.stringify(CLI)});
    process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)},
      JSON.stringify(Object.keys(require.cache))));
    require(${JSON.stringify(CLI)});`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, '--', ...args], { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => {
      const loaded = JSON.parse(fs.readFileSync(report, 'utf8')) as string[];
      const dist = path.dirname(CLI);
      const bundles = loaded.filter((file) => path.dirname(file) === dist).map((file) => path.basename(file));
      resolve({ code, bundles: bundles.sort() });
    });
  });
}

describe('backfill control', function () {
  this.timeout(60_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer | undefined;

  beforeEach(() => (work = tempDir()));
  afterEach(async () => {
    await target?.stop();
    target = undefined;
    work.cleanup();
  });

  describe('its fast path, which the launcher runs without loading the full command line', () => {
    it('sends a command to a live run and says so in the words of the full command line', async () => {
      const file = path.join(work.dir, 'job.backfill');
      pretendRunning(file);
      const fast = await captured(() => tryControlFastPath([file, 'rate', '20']));
      const full = await fullCli('control', file, 'rate', '20');
      assert.equal(fast.code, 0);
      assert.equal(full.code, 0);
      assert.equal(fast.stdout, full.stdout);
      assert.match(fast.stdout, /^Sent "rate 20" to run run-1 \(pid \d+\)/);
      assert.deepEqual(readControl(stateDirFor(file)), { seq: 2, paused: false, stop: false, rate: 20 });
    });

    it('leaves help, options, wrong arity, invalid values and refusals to the full command line, sending nothing', async () => {
      const file = path.join(work.dir, 'job.backfill');
      const idle = path.join(work.dir, 'idle.backfill');
      pretendRunning(file);
      for (const args of [
        [],
        ['--help'],
        ['-h'],
        [file],
        [file, 'stop', 'now', 'please'],
        [file, 'stop', '--help'],
        [file, 'stop', '--force'],
        ['--', file, 'stop'],
        [file, 'rate', '-5'],
        [file, 'rate', 'fast'],
        [file, 'stop', 'now'],
        [file, 'halt'],
        [idle, 'stop'],
      ]) {
        const fast = await captured(() => tryControlFastPath(args));
        assert.deepEqual(fast, { code: undefined, stdout: '', stderr: '' }, args.join(' '));
      }
      assert.equal(readControl(stateDirFor(file)).seq, 0);
    });
  });

  describe('through the launcher, dist/cli.js', () => {
    it('loads dist/control.js alone for control, and the full command line for anything it leaves', async () => {
      const file = path.join(work.dir, 'job.backfill');
      pretendRunning(file);
      // The status names this test's process: it is alive while the launcher runs.
      assert.deepEqual(await bundlesLoadedFor(['control', file, 'pause'], work.dir), {
        code: 0,
        bundles: ['cli.js', 'control.js'],
      });
      assert.equal(readControl(stateDirFor(file)).paused, true);
      assert.deepEqual(await bundlesLoadedFor(['control', '--help'], work.dir), {
        code: 0,
        bundles: ['cli-main.js', 'cli.js', 'control.js'],
      });
      assert.deepEqual(await bundlesLoadedFor(['control', file, 'rate', 'fast'], work.dir), {
        code: 2,
        bundles: ['cli-main.js', 'cli.js', 'control.js'],
      });
      assert.deepEqual(await bundlesLoadedFor(['--version'], work.dir), {
        code: 0,
        bundles: ['cli-main.js', 'cli.js'],
      });
    });

    it('reports what the fast path leaves exactly as before: message and exit code', async () => {
      const file = path.join(work.dir, 'job.backfill');
      const missing = await runCli(['control', file]);
      assert.equal(missing.code, 2);
      assert.equal(
        missing.stderr,
        "error: missing required argument 'action'\n(run with --help for usage)\n",
      );
      const idle = await runCli(['control', file, 'stop']);
      assert.equal(idle.code, 2);
      assert.equal(idle.stderr, `backfill: no backfill of ${file} is running: nothing to stop\n`);
      assert.equal(idle.stdout, '');
    });
  });

  describe('its arguments', () => {
    it('refuses a rate or a concurrency outside its sane range, naming the range, sending nothing', async () => {
      const file = path.join(work.dir, 'job.backfill');
      pretendRunning(file);
      for (const [action, value, message] of [
        ['rate', '1e308', 'rate 1e308: 1e+308 is out of range: must be between 0.00001 and 1,000,000'],
        ['rate', 'Infinity', 'rate Infinity: Infinity is out of range'],
        ['concurrency', '100000', 'concurrency 100000: 100,000 is out of range: must be between 1 and 1,000'],
        ['concurrency', '2.5', 'a whole number'],
      ] as const) {
        const result = await fullCli('control', file, action, value);
        assert.equal(result.code, 2, `${action} ${value}: ${result.stderr}`);
        assert.ok(result.stderr.includes(message), result.stderr);
      }
      assert.equal(readControl(stateDirFor(file)).seq, 0, 'nothing was sent');
    });
  });

  describe('reaching a running run', () => {
    /** A run of 400 records at 50/s (8 s) under `preload`, once it has sent its first records. */
    async function startRun(preload: string) {
      target = await startTargetServer();
      const file = writeFixtureRunbook(work.dir, { records: 400, rate: 50, concurrency: 2 });
      const run = startCli(['run', file, '--cell', 'full', '--execute', '--var', `BASE_URL=${target.url}`], {
        NODE_OPTIONS: `--require ${path.join(REPO, 'test', 'support', preload)}`,
      });
      await waitFor(() => target!.arrivals.length >= 5, 'the first requests');
      return { file, run };
    }

    /** The run halted (exit 3) for `reason` before it sent everything. */
    async function assertHalted(file: string, run: ReturnType<typeof startCli>, reason: RegExp) {
      assert.equal(await run.exited, 3, run.stdout() + run.stderr());
      assert.ok(target!.arrivals.length < 400, `${target!.arrivals.length} of 400 sent`);
      assert.match(readStatus(stateDirFor(file))?.reason ?? '', reason);
    }

    it('delivers a stop through the watch when the control poll never fires', async () => {
      const { file, run } = await startRun('withoutControlPolling.cjs');
      assert.equal((await runCli(['control', file, 'stop'])).code, 0);
      await assertHalted(file, run, /^stopped by backfill control$/);
    });

    it('delivers a halt file through the watch when the control poll never fires', async () => {
      const { file, run } = await startRun('withoutControlPolling.cjs');
      fs.writeFileSync(`${file}.halt`, '');
      await assertHalted(file, run, /^halt file .*job\.backfill\.halt found$/);
    });

    it('delivers a stop through the poll where fs.watch is not supported', async () => {
      const { file, run } = await startRun('withoutFsWatch.cjs');
      assert.equal((await runCli(['control', file, 'stop'])).code, 0);
      await assertHalted(file, run, /^stopped by backfill control$/);
    });
  });
});
