import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { parseRunbook } from '../../src/core/format/runbook';
import { parseRunbookFile, serializeRunbookFile } from '../../src/core/format/runbookFile';
import { REPO, runCli, tempDir, type CliResult } from '../support/cli';
import { startCli, waitFor } from '../support/cliProcess';
import { keyOf } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';
import { pdfText } from '../core/report/pdfText';

const CANARY = 'canary-report-5e1f0a9b3c7d';
const OUTPUT = path.join(REPO, 'test-output', 'report');
const RECORDS = 200;
/** k00010 fails once (fixed by the re-run of failed records); k00020 and k00030 always fail. */
const FAILS_ONCE = keyOf(10);
const ALWAYS_FAIL = [keyOf(20), keyOf(30)];

const RUNBOOK = `---
title: Re-price items after the <tax> bug
name: reprice-items
owner: Ada Lovelace <ada@example.com>
environments:
  test:
    vars:
      BASE_URL: http://127.0.0.1:9
stakeholders:
  - name: Grace Hopper
    role: owns the items service
    contact: grace@example.com
---

# Re-price items

## 1. Plan

Every item gets its price sent again. **Success:** 99 % of items.

## 2. Communicate

\`\`\`checklist id=sign-off
- item: Items service owner agrees to 100 requests per second
  owner: Grace Hopper
  required: true
  checked: { by: Grace Hopper, at: "2026-11-01T09:30:00Z" }
- item: Announcement posted
  owner: Ada Lovelace
\`\`\`

## 3. Test

\`\`\`job id=items
source:
  type: csv
  path: records.csv
  key: id
  fields:
    id: string
    amount: number
action:
  type: http
  method: POST
  url: \${env:BASE_URL}/items/\${record:id}
  headers:
    Authorization: Bearer \${secret:REPORT_TOKEN}
  body:
    id: \${record:id}
    amount: \${record:amount}
throttle:
  rate: 100
  concurrency: 2
  retries: 0
\`\`\`

\`\`\`dry-run id=preview
job: items
\`\`\`

## 4. Run and monitor

\`\`\`execute id=full
job: items
successThreshold: 0.3
\`\`\`
Watch the dashboard.

## 6. Document

### Recommended changes

- Validate prices at the source so no <script>alert(1)</script> slips through.
`;

describe('backfill report and announce after a real run', function () {
  this.timeout(180_000);
  let work: ReturnType<typeof tempDir>;
  let server: TargetServer;
  let file: string;
  const outputs: CliResult[] = [];
  const haltedBlocks: string[] = [];

  const cli = async (...args: string[]) => {
    const result = await runCli(args, { env: { REPORT_TOKEN: CANARY } });
    outputs.push(result);
    return result;
  };
  const runArgs = (...extra: string[]) => [
    'run',
    file,
    '--cell',
    'full',
    '--var',
    `BASE_URL=${server.url}`,
    '--execute',
    ...extra,
  ];

  before(async () => {
    work = tempDir();
    fs.mkdirSync(OUTPUT, { recursive: true });
    server = await startTargetServer((arrival, attempt) => {
      if (arrival.key === FAILS_ONCE && attempt === 1) return { status: 400 };
      return ALWAYS_FAIL.includes(arrival.key) ? { status: 400 } : { delayMs: 2 };
    });
    const rows = ['id,amount', ...Array.from({ length: RECORDS }, (_, i) => `${keyOf(i + 1)},${i + 1}.5`)];
    fs.writeFileSync(path.join(work.dir, 'records.csv'), rows.join('\n') + '\n');
    file = path.join(work.dir, 'job.backfill');
    fs.writeFileSync(file, RUNBOOK);

    assert.equal((await cli('dry-run', file, '--var', `BASE_URL=${server.url}`)).code, 0);
    // A first run stopped half-way, resumed, then the failed records re-run.
    const first = startCli(runArgs('--no-progress'), { REPORT_TOKEN: CANARY });
    await waitFor(() => server.arrivals.length >= 60, 'sixty records to arrive');
    assert.equal((await cli('control', file, 'stop')).code, 0);
    assert.equal(await first.exited, 3, first.stdout() + first.stderr());
    outputs.push({ code: 3, stdout: first.stdout(), stderr: first.stderr() });
    haltedBlocks.push(resultBlock(fs.readFileSync(file, 'utf8'), 'full'));
    assert.equal((await cli(...runArgs())).code, 0);
    // Judged on its own records: 1 of the 3 re-run succeeded, above the cell's 30 %.
    assert.equal((await cli(...runArgs('--only', 'failed'))).code, 0);
  });
  after(async () => {
    await server?.stop();
    work?.cleanup();
  });

  it('records a halted run in the runbook, with its reason', () => {
    assert.match(haltedBlocks[0]!, /^outcome: halted$/m);
    assert.match(haltedBlocks[0]!, /^reason: stopped by backfill control$/m);
    assert.match(haltedBlocks[0]!, /^mode: execute$/m);
  });

  it('leaves the last result of each cell in the runbook and every other byte as written', () => {
    const text = fs.readFileSync(file, 'utf8');
    const full = resultBlock(text, 'full');
    assert.match(full, /^outcome: succeeded$/m);
    assert.match(full, /^counts:\n {2}total: 200\n {2}succeeded: 198\n {2}failed: 2\n {2}processed: 3$/m);
    assert.match(full, /^errors:\n {2}http-4xx: 2$/m);
    assert.match(full, /^durationMs: \d+ # /m);
    assert.match(resultBlock(text, 'preview'), /^outcome: passed$/m);
    // A cell keeps its last real run's block and, after it, its last dry run's (`mode=dry-run`).
    const withoutBlocks = text.replace(/\n```result for=[\w-]+(?: mode=dry-run)?\n[\s\S]*?```\n/g, '');
    assert.equal(withoutBlocks, RUNBOOK.replace('```\nWatch', '```\n\nWatch'));
  });

  it('keeps a runbook with embedded results round-tripping, valid, and readable as Markdown', () => {
    const text = fs.readFileSync(file, 'utf8');
    const { doc } = parseRunbookFile(text, file);
    assert.equal(serializeRunbookFile(doc!), text);
    assert.deepEqual(parseRunbook(text, file).issues, []);
    // On a code host each result is a fenced block right after its cell, never run into other text.
    assert.match(
      text,
      /\n```\n\n```result for=full\n[\s\S]*?\n```\n(?:\n```result for=full mode=dry-run\n[\s\S]*?\n```\n)?\nWatch the dashboard\./,
    );
  });

  it('writes a Markdown report with the numbers of every run and the steps to reproduce', async () => {
    const result = await cli('report', file, '--format', 'md');
    assert.equal(result.code, 0, result.stderr);
    const reportFile = path.join(work.dir, 'job.report.md');
    assert.match(result.stdout, /Report written to .*job\.report\.md/);
    const md = fs.readFileSync(reportFile, 'utf8');
    fs.copyFileSync(reportFile, path.join(OUTPUT, 'report.md'));
    assert.match(md, /^\| `full` \| execute \| succeeded \| 198 succeeded, 2 failed \|/m);
    const runRows = md.split('\n').filter((line) => /^\| `[0-9a-f]{8}` \| `full` \| execute/.test(line));
    assert.equal(runRows.length, 3);
    const counts = runRows.map((row) => row.split(' | ')[8]!);
    const total = (status: string, rows: string[]) =>
      rows.reduce((sum, row) => sum + Number(new RegExp(`(\\d+) ${status}`).exec(row)?.[1] ?? 0), 0);
    assert.equal(total('succeeded', counts.slice(0, 2)), RECORDS - 3);
    assert.equal(total('failed', counts.slice(0, 2)), 3);
    assert.equal(counts[2], '1 succeeded, 2 failed');
    // Each run shows its own duration; the summary adds up the cell's runs, not the last re-run's alone.
    const seconds = (text: string) => Number(/^([\d.]+) s\b/.exec(text)?.[1]);
    const durations = runRows.map((row) => seconds(row.split(' | ')[7]!));
    const summary = /^\| `full` \| execute \| succeeded \| [^|]+\| [^|]+\| ([\d.]+ s) \(3 runs\) \|$/m.exec(
      md,
    );
    assert.ok(summary, md);
    const sum = durations.reduce((a, b) => a + b, 0);
    assert.ok(
      Math.abs(seconds(summary[1]!) - sum) < 0.05,
      `${summary[1]} is the sum of ${durations.join(', ')}`,
    );
    assert.ok(durations.every((d) => d > 0 && d < sum));
    assert.match(runRows[0]!, /halted — stopped by backfill control \|$/);
    assert.match(md, /\*\*resume\*\* — resumed the halted run/);
    assert.match(
      md,
      /\*\*re-run\*\* — re-ran exactly the failed records with --only failed: 1 succeeded, 2 failed/,
    );
    assert.match(md, /\*\*halt\*\* — halted: stopped by backfill control/);
    // Buckets follow each run's own length: no chart shows a peak below its run's average, the short
    // re-run of three records included.
    const rates = [...md.matchAll(/peak ([\d.,]+)\/s, average ([\d.,]+)\/s/g)].map((m) =>
      [m[1]!, m[2]!].map((n) => Number(n.replace(/,/g, ''))),
    );
    assert.equal(rates.length, 3, md);
    for (const [peak, average] of rates) assert.ok(peak! >= average!, `peak ${peak}/s, average ${average}/s`);
    const port = new URL(server.url).port;
    assert.ok(
      md.includes(
        `backfill run job.backfill --cell full --env test --var BASE_URL=http://127.0.0.1:${port} --execute --only failed`,
      ),
    );
    assert.ok(
      md.includes(
        `backfill dry-run job.backfill --cell preview --env test --var BASE_URL=http://127.0.0.1:${port}`,
      ),
    );
    assert.match(md, /## Recommended changes\n\n- Validate prices at the source/);
    assert.match(
      md,
      /Items service owner agrees to 100 requests per second \| Grace Hopper \| required \| ✓ Grace Hopper, 2026-11-01 09:30:00 UTC/,
    );
    assert.match(md, /No verification has run yet|has no verify cell/);
  });

  it('writes a self-contained HTML report that renders in headless Chromium and prints to a PDF', async () => {
    const result = await cli(
      'report',
      file,
      '--format',
      'html',
      '--out',
      path.join(work.dir, 'out', 'report.html'),
    );
    assert.equal(result.code, 0, result.stderr);
    const html = fs.readFileSync(path.join(work.dir, 'out', 'report.html'), 'utf8');
    fs.writeFileSync(path.join(OUTPUT, 'report.html'), html);
    assert.doesNotMatch(html, /<script|<link|@import|url\(http|src="http/i);
    assert.ok(html.includes('&lt;tax&gt;'), 'the title was not escaped');
    assert.ok(!html.includes('<script>alert(1)</script>'));

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`file://${path.join(work.dir, 'out', 'report.html')}`);
      const text = await page.locator('body').innerText();
      assert.deepEqual(
        requests.filter((url) => !url.startsWith('file://')),
        [],
        'the report fetched something',
      );
      assert.match(text, /198 succeeded, 2 failed/);
      assert.match(text, /Re-price items after the <tax> bug/);
      assert.equal((await page.locator('svg.chart').count()) >= 3, true, 'a chart per run is missing');
      assert.equal(await page.locator('#runs tbody tr').count(), 4);
      await page.screenshot({ path: path.join(OUTPUT, 'report.png'), fullPage: true });
      await page.emulateMedia({ media: 'print' });
      const pdf = await page.pdf({
        path: path.join(OUTPUT, 'report.pdf'),
        format: 'A4',
        printBackground: true,
      });
      assert.ok(
        pdf.subarray(0, 5).toString() === '%PDF-' && pdf.length > 30_000,
        `PDF of ${pdf.length} bytes`,
      );
      const printed = pdfText(pdf).replace(/\s+/g, '');
      assert.ok(printed.includes('198succeeded,2failed'), 'the PDF lacks the counts');
      assert.ok(!printed.includes(CANARY.replace(/\s+/g, '')));
    } finally {
      await browser.close();
    }
  });

  it('announces the start and the end for stakeholders', async () => {
    const start = await cli('announce', file, '--phase', 'start');
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /^Backfill starting: Re-price items after the <tax> bug$/m);
    assert.match(start.stdout, /^Rate: at most 100 records per second, 2 at a time/m);
    assert.match(start.stdout, /200 records, about 2 s/);
    assert.ok(start.stdout.includes(`backfill control ${file} stop`));
    assert.match(start.stdout, /job\.backfill\.halt/);
    assert.match(
      start.stdout,
      /^Contact: Ada Lovelace <ada@example\.com> \(owner\); Grace Hopper — owns the items service <grace@example\.com>$/m,
    );
    const done = await cli('announce', file, '--phase', 'done');
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^- full: succeeded — 198 succeeded, 2 failed \(3 runs, /m);
    assert.match(
      done.stdout,
      /^Manual interventions: 1 override \(--var BASE_URL=http:\/\/127\.0\.0\.1:\d+\), 1 halt, 1 resume, 1 re-run$/m,
    );
    assert.match(done.stdout, /^Report: .*job\.report\.(html|md)$/m);
  });

  it('never lets the secret out: runbook, reports, PDF text, every command output', () => {
    for (const output of outputs) assert.ok(!(output.stdout + output.stderr).includes(CANARY));
    for (const name of ['report.md', 'report.html']) {
      assert.ok(!fs.readFileSync(path.join(OUTPUT, name), 'utf8').includes(CANARY), name);
    }
    assert.ok(!fs.readFileSync(file, 'utf8').includes(CANARY));
    assert.ok(
      server.arrivals.some((a) => a.body.length > 0),
      'the target received the records',
    );
  });
});

function resultBlock(text: string, cell: string): string {
  const match = new RegExp(`\`\`\`result for=${cell}\\n([\\s\\S]*?)\`\`\``).exec(text);
  assert.ok(match, `no result block for ${cell}`);
  return match[1]!;
}

/** Debian's chromium through playwright-core: these machines cannot download a browser. */
function launchChromium(): Promise<Browser> {
  const executablePath = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
