import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRunbook, type Runbook } from '../../../src/core/format/runbook';
import { SqlJsLedger } from '../../../src/core/ledger/sqlJsLedger';
import type { RecordOutcome, RecordStatus, RunRecord } from '../../../src/core/model/runs';
import { renderAnnouncement } from '../../../src/core/report/announcement';
import { redactorFor } from '../../../src/core/report/knownSecrets';
import { buildReportModel, type ReportModel } from '../../../src/core/report/reportModel';
import { renderReport } from '../../../src/core/report/report';
import { tempDir } from '../../support/cli';

const CANARY = 'canary-unit-8c2d4e6f0a1b';
const START = Date.parse('2026-11-05T10:00:00.000Z');

const TEXT = `---
title: Fix accounts
name: fix-accounts
owner: Ada
environments:
  staging: { vars: { BASE_URL: "http://127.0.0.1:9" } }
  prod: { production: true, vars: { BASE_URL: "https://accounts.example" } }
defaultEnvironment: staging
stakeholders:
  - { name: Grace, role: owns accounts, contact: grace@example.com }
---

# Fix accounts

A note that someone pasted a token into: ${CANARY}.

\`\`\`checklist id=approvals
- id: owner
  item: Owner approves
  owner: Grace
  required: true
\`\`\`

\`\`\`job id=accounts
source: { type: inline, key: id, records: [{ id: "1" }] }
action:
  type: http
  url: \${env:BASE_URL}/accounts/\${record:id}
  headers: { Authorization: "Bearer \${secret:ACCOUNTS_TOKEN}" }
\`\`\`

\`\`\`execute id=full
job: accounts
\`\`\`

\`\`\`verify id=check
job: accounts
check:
  type: http
  url: \${env:BASE_URL}/accounts/\${record:id}
  expect: { status: 200 }
\`\`\`

## Document

- **Results:** see the report.
- **Recommended changes:** validate ids at the source;
  add a dashboard for the queue.
- Something else.
`;

function at(seconds: number): string {
  return new Date(START + seconds * 1000).toISOString();
}

function run(overrides: Partial<RunRecord>): RunRecord {
  return {
    id: 'aaaaaaaa-0000-4000-8000-000000000001',
    chain: 'chain-1',
    cell: 'full',
    job: 'accounts',
    mode: 'execute',
    environment: 'staging',
    operator: 'ada',
    host: 'bastion',
    pid: 1,
    startedAt: at(0),
    fingerprint: 'f'.repeat(64),
    params: JSON.stringify({ restart: false, onlyFailed: false, vars: { BASE_URL: 'http://127.0.0.1:9' } }),
    outcome: 'running',
    ...overrides,
  };
}

function outcome(
  runId: string,
  chain: string,
  cell: string,
  key: string,
  status: string,
  second: number,
): RecordOutcome {
  return {
    run: runId,
    chain,
    cell,
    key,
    status: status as RecordStatus,
    attempts: key === 'k3' ? 2 : 1,
    line: Number(key.slice(1)),
    ...(status === 'failed' ? { errorKind: 'http-5xx' as const, lastError: 'HTTP 503' } : {}),
    idempotencyKey: '',
    at: at(second),
  };
}

describe('the report', () => {
  let work: ReturnType<typeof tempDir>;
  let runbook: Runbook;
  let ledger: SqlJsLedger;
  let model: ReportModel;

  before(async () => {
    work = tempDir();
    const file = path.join(work.dir, 'accounts.backfill');
    fs.writeFileSync(file, TEXT);
    runbook = parseRunbook(TEXT, file).runbook!;
    ledger = await SqlJsLedger.open(file);
    const first = run({
      outcome: 'halted',
      // As if a source had not redacted it: the report layer must catch it anyway.
      reason: `stopped: <img src=x onerror=alert(1)> token ${CANARY}`,
      endedAt: at(30),
      counts: JSON.stringify({ succeeded: 2, failed: 1, rejected: 0, skipped: 0, done: 3, total: 4 }),
    });
    const second = run({
      id: 'bbbbbbbb-0000-4000-8000-000000000002',
      startedAt: at(60),
      endedAt: at(62),
      outcome: 'succeeded',
      params: JSON.stringify({ onlyFailed: true, vars: { BASE_URL: 'http://127.0.0.1:9' } }),
      counts: JSON.stringify({ succeeded: 1, failed: 0, rejected: 0, skipped: 0, done: 4, total: 4 }),
    });
    const verification = run({
      id: 'cccccccc-0000-4000-8000-000000000003',
      chain: 'chain-v',
      cell: 'check',
      mode: 'verify',
      startedAt: at(100),
      endedAt: at(110),
      outcome: 'below-threshold',
    });
    for (const r of [first, second, verification]) await ledger.startRun(r);
    ledger.upsertOutcomes([
      outcome(first.id, 'chain-1', 'full', 'k1', 'succeeded', 5),
      outcome(first.id, 'chain-1', 'full', 'k2', 'succeeded', 25),
      outcome(second.id, 'chain-1', 'full', 'k3', 'succeeded', 61),
      outcome(verification.id, 'chain-v', 'check', 'k1', 'verified', 101),
      outcome(verification.id, 'chain-v', 'check', 'k2', 'verified', 102),
      outcome(verification.id, 'chain-v', 'check', 'k3', 'mismatch', 103),
    ]);
    await ledger.recordSignOff({
      checklist: 'approvals',
      item: 'owner',
      by: 'Grace',
      at: at(-3600),
      checked: true,
    });
    model = await buildReportModel(runbook, ledger, { now: new Date(START + 3_600_000) });
  });
  after(async () => {
    await ledger.close();
    work.cleanup();
  });

  const render = (format: 'html' | 'md') => {
    const redactor = redactorFor(TEXT, { ACCOUNTS_TOKEN: CANARY });
    return renderReport(redactor.redactValue(model), format, redactor);
  };

  it('counts each run by what it recorded at its end, and the cell by its chain now', () => {
    assert.deepEqual(
      model.runs.map((r) => [r.kind, r.outcome, r.counts]),
      [
        ['execute', 'halted', { succeeded: 2, failed: 1, rejected: 0, skipped: 0 }],
        ['execute', 'succeeded', { succeeded: 1, failed: 0, rejected: 0, skipped: 0 }],
        ['verify', 'below-threshold', { verified: 2, mismatch: 1 }],
      ],
    );
    assert.deepEqual(model.cells.find((c) => c.id === 'full')!.counts, { succeeded: 3 });
    assert.equal(model.runs[1]!.retried, 1);
  });

  it('builds a time series from outcome times, its buckets picked from the run’s length and records', () => {
    // 3 records in 30 s: half-second buckets would show two lone bars; a few records a bucket at least,
    // but no bucket longer than the run: one bucket, the run's 30 s.
    const series = model.runs[0]!.series!;
    assert.equal(series.bucketSeconds, 30);
    assert.equal(series.lastBucketSeconds, 30);
    assert.equal(series.buckets.length, 1);
    assert.deepEqual(series.buckets[0], { good: 2, bad: 0 });
    assert.equal(
      series.buckets.reduce((sum, b) => sum + b.good + b.bad, 0),
      2,
    );
  });

  it('gives a cell the time of all its runs, not the last re-run’s as the whole', () => {
    const full = model.cells.find((c) => c.id === 'full')!;
    assert.deepEqual([full.durationMs, full.runCount, full.startedAt], [32_000, 2, at(0)]);
    assert.deepEqual(
      model.runs.filter((r) => r.cell === 'full').map((r) => r.durationMs),
      [30_000, 2_000],
    );
    assert.match(
      render('md'),
      /\| `full` \| execute \| succeeded \| 3 succeeded \| [^|]+ \| 32 s \(2 runs\) \|/,
    );
  });

  it('reports the verification outcome of the latest verify chain', () => {
    assert.deepEqual(model.verification, [
      {
        cell: 'check',
        run: 'cccccccc-0000-4000-8000-000000000003',
        outcome: 'below-threshold',
        endedAt: at(110),
        counts: { verified: 2, mismatch: 1 },
      },
    ]);
    assert.match(render('html'), /2 verified, 1 mismatch/);
    assert.match(render('md'), /\| `check` \| below-threshold \| 2 verified, 1 mismatch \|/);
  });

  it('lists the halt and the re-run of failed records as interventions, in order', () => {
    assert.deepEqual(
      model.interventions.map((i) => [i.kind, i.text]),
      [
        ['halt', `halted: stopped: <img src=x onerror=alert(1)> token ${CANARY}`],
        ['re-run', 're-ran exactly the failed records with --only failed: 1 succeeded'],
      ],
    );
  });

  it('takes a sign-off from the ledger when the runbook has none, with who and when', () => {
    const item = model.checklists[0]!.items[0]!;
    assert.deepEqual(item.checked, { by: 'Grace', at: at(-3600) });
    assert.match(model.timeline[0]!.text, /^Grace signed off "Owner approves"$/);
  });

  it('picks the recommended changes out of the notes, continuation line included', () => {
    assert.deepEqual(model.recommendedChanges, {
      heading: 'Recommended changes',
      markdown: '- **Recommended changes:** validate ids at the source;\n  add a dashboard for the queue.',
    });
  });

  it('writes the exact commands to reproduce each run', () => {
    const commands = model.reproduce.map((step) => step.command);
    assert.deepEqual(commands, [
      'backfill check accounts.backfill',
      'backfill run accounts.backfill --cell full --env staging --execute',
      'backfill run accounts.backfill --cell full --env staging --execute --only failed',
      'backfill run accounts.backfill --cell check --env staging',
      'backfill report accounts.backfill --format html',
    ]);
  });

  it('escapes every value in the HTML and the Markdown, and leaves no script or external asset', () => {
    const html = render('html');
    assert.ok(!html.includes('<img'), 'a reason became markup');
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.doesNotMatch(html, /<script|<link|src="http|url\(http/i);
    const md = render('md');
    assert.ok(md.includes('&lt;img src=x onerror=alert(1)&gt;'));
  });

  it('redacts a secret from every part of the report, the notes included', () => {
    for (const format of ['html', 'md'] as const) {
      const text = render(format);
      assert.ok(!text.includes(CANARY), `${format} holds the secret`);
      assert.match(text, /\[redacted:ACCOUNTS_TOKEN\]/);
    }
  });

  it('announces the start with the rate and the halt command, and the end with the results', () => {
    const context = {
      model,
      runbookPath: 'runbooks/accounts.backfill',
      cell: { id: 'full', rate: 25, concurrency: 3 },
      environment: { name: 'staging', production: false, vars: {} },
      records: 1000,
      now: new Date(START),
    };
    const start = renderAnnouncement('start', context);
    assert.match(start, /^When: starting now, 2026-11-05 10:00:00 UTC — 1,000 records, about 40 s\.$/m);
    assert.match(
      start,
      /^How to halt it: backfill control runbooks\/accounts\.backfill stop .* accounts\.backfill\.halt /m,
    );
    assert.match(start, /^Contact: Ada \(owner\); Grace — owns accounts <grace@example\.com>$/m);
    const done = renderAnnouncement('done', { ...context, reportPath: 'runbooks/accounts.report.html' });
    assert.match(
      done,
      /^- full: succeeded — 3 succeeded \(2 runs, 32 s running, ended 2026-11-05 10:01:02 UTC\)$/m,
    );
    assert.match(done, /^Verification: check below-threshold — 2 verified, 1 mismatch$/m);
    assert.match(done, /^Report: runbooks\/accounts\.report\.html$/m);
  });
});
