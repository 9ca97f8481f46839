import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FixtureOptions {
  /** Number of valid records, keyed k0001, k0002, … */
  records: number;
  /** Malformed rows appended after the valid ones (rejected by the schema: a non-numeric amount). */
  malformed?: number;
  rate?: number;
  concurrency?: number;
  retries?: number;
  timeoutMs?: number;
  /** successThreshold of the execute cell (default 0.5). */
  threshold?: number;
  /** Extra YAML lines for the execute cell `full` (e.g. error budget, threshold). */
  executeExtra?: string;
  /** Mark the single environment as production. */
  production?: boolean;
  /** Add a required checklist item, checked or not. */
  requiredItem?: 'checked' | 'unchecked';
  /** More cells (e.g. a verify cell of job `items`), appended after the execute cell. */
  extraCells?: string;
  /** More header lines (e.g. stakeholders), appended to the front matter. */
  headerExtra?: string;
}

export function keyOf(index: number): string {
  return `k${String(index).padStart(5, '0')}`;
}

/**
 * Writes a runbook (`job.backfill`) and its CSV (`records.csv`) into `dir`: an HTTP job that POSTs each
 * record to ${env:BASE_URL}/items/KEY, a dry-run cell `preview`, and an execute cell `full`.
 */
export function writeFixtureRunbook(dir: string, options: FixtureOptions): string {
  const rows = ['id,amount'];
  for (let i = 1; i <= options.records; i += 1) rows.push(`${keyOf(i)},${i}.5`);
  for (let i = 1; i <= (options.malformed ?? 0); i += 1) rows.push(`bad${i},not-a-number`);
  fs.writeFileSync(path.join(dir, 'records.csv'), rows.join('\n') + '\n');
  const environment = options.production ? 'prod' : 'test';
  const checklist =
    options.requiredItem === undefined
      ? ''
      : `\`\`\`checklist id=sign-off\n- item: Owner approves\n  owner: Grace\n  required: true\n${
          options.requiredItem === 'checked' ? '  checked: { by: Grace, at: "2026-11-01T10:00:00Z" }\n' : ''
        }\`\`\`\n\n`;
  const text = `---
title: Fixture
name: fixture-job
owner: Tests
environments:
  ${environment}:
    production: ${options.production ? 'true' : 'false'}
    vars:
      BASE_URL: http://127.0.0.1:9
${options.headerExtra ?? ''}---

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
  body:
    id: \${record:id}
    amount: \${record:amount}
throttle:
  rate: ${options.rate ?? 1000}
  concurrency: ${options.concurrency ?? 4}
  retries: ${options.retries ?? 3}
  timeoutMs: ${options.timeoutMs ?? 5000}
\`\`\`

${checklist}\`\`\`dry-run id=preview
job: items
successThreshold: 0
\`\`\`

\`\`\`execute id=full
job: items
successThreshold: ${options.threshold ?? 0.5}
${options.executeExtra ?? ''}\`\`\`
${options.extraCells ? `\n${options.extraCells}` : ''}`;
  const file = path.join(dir, 'job.backfill');
  fs.writeFileSync(file, text);
  return file;
}

/**
 * A verify cell `check` of job `items` that reads ${env:BASE_URL}/items/KEY and expects the record's id
 * and amount (a stateService holds them); `expectExtra` adds lines under `expect:` (e.g. a tolerance).
 */
export function httpVerifyCell(expectExtra = ''): string {
  return `\`\`\`verify id=check
job: items
check:
  type: http
  url: \${env:BASE_URL}/items/\${record:id}
  expect:
    body:
      id: \${record:id}
      amount: \${record:amount}
${expectExtra}\`\`\`
`;
}

/**
 * Puts the fixture's (single) environment's ledger in PostgreSQL, its URL the secret LEDGER_URL; `extra` adds
 * lines under `ledger:` (indented six spaces, e.g. `      leaseSeconds: 2\n`).
 */
export function usePostgresLedger(file: string, extra = ''): void {
  const text = fs.readFileSync(file, 'utf8');
  const shared = text.replace(
    /^ {4}production: (true|false)\n/m,
    (line) => `${line}    ledger:\n      type: postgres\n      url: \${secret:LEDGER_URL}\n${extra}`,
  );
  if (shared === text) throw new Error(`${file}: no environment to give a PostgreSQL ledger`);
  fs.writeFileSync(file, shared);
}
