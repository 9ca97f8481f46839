import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { resolveEnvironment } from '../../src/core/environment';
import { findCell, parseRunbook, type RunnableCell } from '../../src/core/format/runbook';
import { resolveJob } from '../../src/core/job';
import { runBackfill } from '../../src/core/run/runner';
import { runCli, tempDir } from '../support/cli';
import { keyOf, writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

describe('a run whose dispatcher loses a record', function () {
  this.timeout(60_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;

  beforeEach(async () => {
    work = tempDir();
    target = await startTargetServer();
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  it('halts (exit 3) saying how many records have no outcome, and a resume sends exactly those', async () => {
    const file = writeFixtureRunbook(work.dir, { records: 6 });
    const { runbook } = parseRunbook(fs.readFileSync(file, 'utf8'), file);
    assert.ok(runbook);
    const job = resolveJob(runbook, findCell(runbook, 'full') as RunnableCell);
    const dropped = new Set([keyOf(2), keyOf(5)]);
    const result = await runBackfill({
      runbook,
      job,
      environment: resolveEnvironment(runbook.header, undefined, { BASE_URL: target.url }),
      mode: 'execute',
      secretValues: {},
      operator: 'test',
      testDropRecord: (key) => dropped.has(key),
    });
    assert.equal(result.exitCode, 3);
    assert.equal(result.outcome, 'halted');
    assert.match(result.reason ?? '', /2 of the 6 records selected so far have no outcome/);
    assert.deepEqual(
      target.arrivals.map((a) => a.key).sort(),
      [1, 3, 4, 6].map(keyOf),
      'the dropped records were never sent',
    );

    const resumed = await runCli([
      'run',
      file,
      '--cell',
      'full',
      '--var',
      `BASE_URL=${target.url}`,
      '--execute',
    ]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.deepEqual(
      target.arrivals.map((a) => a.key).sort(),
      [1, 2, 3, 4, 5, 6].map(keyOf),
      'the resume sent the two records without an outcome, and only them',
    );
  });
});
