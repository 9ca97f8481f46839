import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, runCli, tempDir } from '../support/cli';

/** What a dry run of each runbook in runbooks/ must count: every source kind, with its malformed records. */
const EXPECTED: Record<
  string,
  { source: string; total: number; valid: number; rejected: number; duplicates: number }
> = {
  'demo.backfill': { source: 'csv', total: 501, valid: 497, rejected: 3, duplicates: 1 },
  'jsonl-source.backfill': { source: 'jsonl', total: 200, valid: 198, rejected: 2, duplicates: 0 },
  'json-source.backfill': { source: 'json', total: 100, valid: 99, rejected: 1, duplicates: 0 },
  'sqlite-source.backfill': { source: 'sqlite', total: 120, valid: 119, rejected: 1, duplicates: 0 },
  'command-source.backfill': { source: 'command', total: 50, valid: 50, rejected: 0, duplicates: 0 },
  'inline-source.backfill': { source: 'inline', total: 3, valid: 3, rejected: 0, duplicates: 0 },
};

describe('the runbooks in runbooks/', () => {
  let work: ReturnType<typeof tempDir>;
  before(() => {
    work = tempDir();
    fs.cpSync(path.join(REPO, 'runbooks'), work.dir, {
      recursive: true,
      filter: (source) => !source.endsWith('.backfill.d'),
    });
  });
  after(() => work.cleanup());

  it('has one runbook for every source kind', () => {
    const kinds = new Set(Object.values(EXPECTED).map((e) => e.source));
    assert.deepEqual([...kinds].sort(), ['command', 'csv', 'inline', 'json', 'jsonl', 'sqlite']);
    // The postgres runbook needs a database: test/cli/postgresRunbook.test.ts starts one and runs it.
    const files = fs
      .readdirSync(path.join(REPO, 'runbooks'))
      .filter((f) => f.endsWith('.backfill') && f !== 'postgres-orders.backfill');
    assert.deepEqual(files.sort(), Object.keys(EXPECTED).sort());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`dry-runs ${name} (${expected.source} source) with the right counts`, async () => {
      const result = await runCli(['dry-run', path.join(work.dir, name), '--json'], {
        env: { ORDERS_API_TOKEN: 'token-for-the-test' },
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const [report] = JSON.parse(result.stdout);
      const { total, valid, rejected, duplicates } = report.counts;
      assert.deepEqual({ source: report.source.type, total, valid, rejected, duplicates }, expected);
      assert.ok(report.passed);
    });
  }

  it("shows the module's dryRun result in the preview", async () => {
    const result = await runCli(['dry-run', path.join(work.dir, 'sqlite-source.backfill'), '--json']);
    const [report] = JSON.parse(result.stdout);
    // seats = (id % 7) + 1; plan = [basic, team, business][id % 3]; basic 4, team 9, business 15 per seat.
    assert.deepEqual(report.preview[0].send, {
      type: 'module',
      path: 'handlers/reprice-subscription.ts',
      export: 'handler',
      dryRun: { monthly: 18 },
    });
  });
});
