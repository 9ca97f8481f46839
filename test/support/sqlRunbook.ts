/**
 * A runbook that backfills `orders.total` from `payments` (a postgres source and a SQL action), for the
 * database tests. The connection URL is the secret DB_URL.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SqlRunbookOptions {
  statement?: string;
  query?: string;
  extraAction?: string;
  batchSize?: number;
  rate?: number;
  concurrency?: number;
  retries?: number;
  production?: boolean;
  /** Extra cells appended at the end. */
  extraCells?: string;
}

export function writeSqlRunbook(dir: string, options: SqlRunbookOptions = {}): string {
  const statement = options.statement ?? 'UPDATE orders SET total = :amount, note = :note WHERE id = :id';
  const query = options.query ?? 'SELECT order_id AS id, amount, note FROM payments';
  const text = `---
title: Orders totals
name: orders-totals
owner: Tests
environments:
  ${options.production ? 'prod' : 'staging'}:
    production: ${options.production ? 'true' : 'false'}
---

\`\`\`job id=totals
source:
  type: postgres
  url: \${secret:DB_URL}
  query: ${query}
  key: id
  pageSize: 7
action:
  type: sql
  url: \${secret:DB_URL}
  statement: ${statement}
${options.extraAction ?? ''}throttle:
  rate: ${options.rate ?? 10000}
  concurrency: ${options.concurrency ?? 2}
  batchSize: ${options.batchSize ?? 5}
  retries: ${options.retries ?? 3}
\`\`\`

\`\`\`dry-run id=preview
job: totals
successThreshold: 0
\`\`\`

\`\`\`execute id=full
job: totals
successThreshold: 0
\`\`\`
${options.extraCells ?? ''}`;
  const file = path.join(dir, 'orders.backfill');
  fs.writeFileSync(file, text);
  return file;
}

/**
 * A `verify id=check` cell of job `totals` with a postgres check of `query`; `before` goes before the
 * check (a throttle), `after` inside it after the query (an expect), both as YAML lines.
 */
export function postgresVerifyCell(query: string, parts: { before?: string; after?: string } = {}): string {
  return `
\`\`\`verify id=check
job: totals
${parts.before ?? ''}check:
  type: postgres
  url: \${secret:DB_URL}
  query: ${query}
${parts.after ?? ''}\`\`\`
`;
}
