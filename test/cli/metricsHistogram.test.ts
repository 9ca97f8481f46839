import { strict as assert } from 'node:assert';
import { runCli, tempDir } from '../support/cli';
import { sleep, startCli, waitFor } from '../support/cliProcess';
import { freePort } from '../support/freePort.mjs';
import { writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

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

      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const series = (suffix: string) =>
        [
          ...text.matchAll(
            new RegExp(`^backfill_attempt_duration_seconds_${suffix}\\{[^}]*\\} (\\S+)$`, 'gm'),
          ),
        ].map((match) => Number(match[1]));
      const sent = target.arrivals.length;
      assert.match(text, /^# TYPE backfill_attempt_duration_seconds histogram$/m);
      assert.deepEqual(series('count'), [sent]);
      const bucket = (le: string) => {
        const match = text.match(
          new RegExp(
            `^backfill_attempt_duration_seconds_bucket\\{[^}]*le="${le.replace('+', '\\+')}"\\} (\\S+)$`,
            'm',
          ),
        );
        return match ? Number(match[1]) : undefined;
      };
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
});
