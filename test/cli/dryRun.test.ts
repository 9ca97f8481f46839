import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startOrdersService, type OrdersService } from '../../src/demo/ordersService';
import { allFiles, copyRunbook, runCli, tempDir } from '../support/cli';

const CANARY = 'canary-7f3a9c1e5b2d';

describe('backfill dry-run', () => {
  let service: OrdersService;
  let work: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    service = await startOrdersService();
    work = tempDir();
  });
  afterEach(async () => {
    await service.stop();
    work.cleanup();
  });

  it('sends nothing to a live server, counts every record and stores its result in the ledger', async () => {
    const runbook = copyRunbook('demo.backfill', work.dir);
    const result = await runCli(['dry-run', runbook, '--var', `BASE_URL=${service.url}`, '--json'], {
      env: { ORDERS_API_TOKEN: CANARY },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(service.received.length, 0);
    const reports = JSON.parse(result.stdout);
    const report = reports[0];
    assert.deepEqual(report.counts, { total: 501, valid: 497, rejected: 3, duplicates: 1, selected: 497 });
    assert.deepEqual(
      report.rejected.map((r: { line: number }) => r.line),
      [43, 101, 321],
    );
    assert.deepEqual(report.duplicates, [{ key: 'ORD-100250', line: 253, firstLine: 252 }]);
    assert.equal(report.preview.length, 4);
    assert.equal(report.preview[0].send.url, `${service.url}/orders/ORD-100001/resend`);
    assert.equal(report.preview[0].send.headers.Authorization, 'Bearer [redacted:ORDERS_API_TOKEN]');
    assert.ok(fs.existsSync(path.join(`${runbook}.d`, 'ledger.sqlite')));
  });

  it('never writes or prints the secret it renders into requests', async () => {
    const runbook = copyRunbook('demo.backfill', work.dir);
    const human = await runCli(['dry-run', runbook, '--var', `BASE_URL=${service.url}`], {
      env: { ORDERS_API_TOKEN: CANARY },
    });
    const json = await runCli(['dry-run', runbook, '--var', `BASE_URL=${service.url}`, '--json'], {
      env: { ORDERS_API_TOKEN: CANARY },
    });
    assert.equal(human.code, 0, human.stderr);
    assert.ok(human.stdout.includes('[redacted:ORDERS_API_TOKEN]'));
    for (const output of [human.stdout, human.stderr, json.stdout, json.stderr]) {
      assert.ok(!output.includes(CANARY));
    }
    const files = allFiles(work.dir);
    assert.ok(files.some((f) => f.endsWith('ledger.sqlite')));
    for (const file of files) assert.ok(!fs.readFileSync(file).includes(CANARY), `${file} holds the secret`);
  });

  it('exits 1 and says why when the share of valid records is below the threshold', async () => {
    const runbook = copyRunbook('demo.backfill', work.dir);
    const text = fs
      .readFileSync(runbook, 'utf8')
      .replace('successThreshold: 0.99\npreview', 'successThreshold: 1\npreview');
    fs.writeFileSync(runbook, text);
    const result = await runCli([
      'dry-run',
      runbook,
      '--cell',
      'preview',
      '--var',
      `BASE_URL=${service.url}`,
    ]);
    assert.equal(result.code, 1, result.stderr);
    // The message names the file, the line, the cell and the field to change: maxRejected, which the
    // cell lacks, else its successThreshold judges the rejected records.
    const line = text.split('\n').indexOf('successThreshold: 1') + 1;
    assert.match(
      result.stdout,
      new RegExp(
        `NOT PASSED[^\\n]*:\\n {4}- demo\\.backfill:${line}: cell preview: successThreshold: 3 records are rejected and cell preview sets no maxRejected, so its successThreshold judges them \\(only 99\\.40 % valid, below 100 %\\): fix the rejected records, or accept them with maxRejected: 3 in cell preview`,
      ),
    );
    assert.equal(service.received.length, 0);
  });

  it('does not pass when the module of a module action cannot be loaded, and says which', async () => {
    const runbook = path.join(work.dir, 'module.backfill');
    fs.writeFileSync(
      runbook,
      '---\ntitle: T\nname: t\nowner: o\n---\n\n```job id=j\nsource:\n  type: inline\n  key: id\n' +
        '  records: [{ id: a }, { id: b }]\naction:\n  type: module\n  path: missing.mjs\n```\n\n' +
        '```dry-run id=d\njob: j\n```\n',
    );
    const result = await runCli(['dry-run', runbook, '--json']);
    assert.equal(result.code, 1, result.stderr);
    const [report] = JSON.parse(result.stdout);
    assert.equal(report.passed, false);
    assert.equal(report.problems.length, 1, 'one problem, however many records the preview tried');
    assert.match(
      report.problems[0],
      /^record a \(line \d+\) cannot be previewed: module missing\.mjs not found \(looked for .*missing\.mjs\)$/,
    );
  });
});
