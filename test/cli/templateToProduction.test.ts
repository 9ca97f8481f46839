import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { cliWorkspace, ledgerRows } from '../support/cliWorkspace';
import { startTargetServer, type TargetServer } from '../support/targetServer';

const VALID = 2000;
const firstKey = 1001;

/** 2,000 orders and 5 malformed rows (a key that is not a number, a missing status) among them. */
function ordersCsv(): string {
  const rows = ['id,status'];
  for (let i = 0; i < VALID; i += 1) {
    rows.push(`${firstKey + i},shipped`);
    if ((i + 1) % 400 === 0) rows.push(`bad${i + 1},`);
  }
  return rows.join('\n') + '\n';
}

/**
 * The runbook `backfill new` writes, with its job edited as a user would: PATCH each order of a CSV to a
 * service, a small batch of 20, each environment its own server. Nothing else of the template changes.
 */
function editTemplate(text: string, staging: string, production: string): string {
  const job = /```job id=main\n[\s\S]*?```\n/.exec(text);
  assert.ok(job, 'the template has a job cell main');
  const edited = text
    .replace(
      job[0],
      '```job id=main\nsource:\n  type: csv\n  path: orders.csv\n  key: id\n  fields:\n    id: integer\n' +
        '    status: string\naction:\n  type: http\n  method: PATCH\n  url: ${env:BASE_URL}/orders/${record:id}\n' +
        '  body:\n    status: ${record:status}\nthrottle:\n  rate: 2000\n  concurrency: 8\n```\n',
    )
    .replace('BASE_URL: http://127.0.0.1:8080', `BASE_URL: ${staging}`)
    .replace('BASE_URL: https://service.example.internal', `BASE_URL: ${production}`)
    .replace(/(```execute id=small-batch\njob: main\nsubset:\n {2}first: )1\n/, '$120\n');
  assert.match(edited, /first: 20\n/);
  return edited;
}

const keys = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

/**
 * Issue 14's first hour, end to end from the template: a source with five malformed rows passes its dry
 * run (the template's maxRejected judges them, not the success threshold), the small batch sends 20,
 * the full run the other 1,980, and the production gate opens once signed off and dry-run there.
 */
describe('from backfill new to production, with malformed rows in the source', function () {
  this.timeout(180_000);
  const work = cliWorkspace();
  let production: TargetServer | undefined;
  afterEach(async () => {
    await production?.stop();
    production = undefined;
  });

  it('dry run, small batch, full run and the production gate, every valid order received once', async () => {
    const staging = await work.serve();
    production = await startTargetServer();
    const cwd = work.dir;
    const file = 'orders.backfill';
    const cli = (...args: string[]) => runCli(args, { cwd, env: { BACKFILL_OPERATOR: 'alice' } });

    const created = await cli('new', file, '--owner', 'alice');
    assert.equal(created.code, 0, created.stderr);
    fs.writeFileSync(path.join(cwd, 'orders.csv'), ordersCsv());
    const template = fs.readFileSync(path.join(cwd, file), 'utf8');
    fs.writeFileSync(path.join(cwd, file), editTemplate(template, staging.url, production.url));

    const dryRun = await cli('dry-run', file);
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    assert.match(dryRun.stdout, /Records: 2,005 read, 2,000 valid, 5 rejected/);
    assert.match(dryRun.stdout, /orders\.csv:402 key bad400: field id: expected an integer/);
    assert.match(dryRun.stdout, /PASSED/);

    const small = await cli('run', file, '--cell', 'small-batch', '--execute');
    assert.equal(small.code, 0, small.stdout + small.stderr);
    assert.deepEqual([...staging.countsByKey().keys()].sort(), keys(firstKey, 20));

    const full = await cli('run', file, '--cell', 'full', '--execute');
    assert.equal(full.code, 0, full.stdout + full.stderr);
    assert.match(full.stdout, /Records: 1,980 of 2,000 \(20 skipped: done by small-batch\)/);
    assert.match(full.stdout, /Run succeeded\.\n {2}1,980 succeeded, 0 failed, 5 rejected/);
    const received = staging.countsByKey();
    assert.deepEqual([...received.keys()].sort(), keys(firstKey, VALID));
    assert.ok(
      [...received.values()].every((n) => n === 1),
      'no order is sent twice',
    );
    assert.ok(
      staging.arrivals.every((a) => a.method === 'PATCH' && a.body === '{"status":"shipped"}'),
      'each order is PATCHed with its status',
    );
    const rejected = await ledgerRows(path.join(cwd, file), { cell: 'full', status: 'rejected' });
    assert.equal(rejected.length, 5);

    // Production: refused, with the command to type, until signed off and dry-run there.
    const prod = ['run', file, '--env', 'production', '--production', '--confirm', 'orders'];
    const unsigned = await cli(...prod, '--cell', 'full');
    assert.equal(unsigned.code, 4);
    assert.match(unsigned.stderr, /backfill sign orders\.backfill --item owners-informed/);
    for (const item of ['owners-informed', 'halt-known']) {
      const signed = await cli('sign', file, '--item', item);
      assert.equal(signed.code, 0, signed.stderr);
    }
    const undried = await cli(...prod, '--cell', 'full');
    assert.equal(undried.code, 4);
    assert.match(undried.stderr, /dry-run it in production: run: backfill dry-run orders\.backfill/);
    assert.equal(production.arrivals.length, 0, 'nothing reaches production while refused');

    const prodDryRun = await cli('dry-run', file, '--env', 'production');
    assert.equal(prodDryRun.code, 0, prodDryRun.stdout + prodDryRun.stderr);
    const prodSmall = await cli(...prod, '--cell', 'small-batch');
    assert.equal(prodSmall.code, 0, prodSmall.stdout + prodSmall.stderr);
    const prodFull = await cli(...prod, '--cell', 'full');
    assert.equal(prodFull.code, 0, prodFull.stdout + prodFull.stderr);
    const inProduction = production.countsByKey();
    assert.deepEqual([...inProduction.keys()].sort(), keys(firstKey, VALID));
    assert.ok(
      [...inProduction.values()].every((n) => n === 1),
      'no order is sent twice to production',
    );
    assert.equal(staging.arrivals.length, VALID, 'staging received nothing more');
  });
});
