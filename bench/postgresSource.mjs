// Benchmark: a postgres source read whole — `backfill dry-run` of `rows` rows, which reads every row in
// keyset pages inside one snapshot, validates and hashes them, and sends nothing. Records/s and the peak
// resident memory of the backfill process (goal ≤ 300 MB: memory is one page, whatever the row count).
// Needs PostgreSQL 15 from Debian and root, as the tests do.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres } from '../test/support/postgresServer.mjs';
import { assertExit, measureCli, recordsPerSecondRow } from './support/cli.mjs';
import { freshDir } from './support/runbooks.mjs';

export async function benchPostgresSource({ rows = 1_000_000, pageSize = 1000 } = {}) {
  const server = await startPostgres();
  try {
    await server.query(`CREATE TABLE customers (id bigint PRIMARY KEY, email text, balance numeric, born date);
      INSERT INTO customers SELECT i, 'c' || i || '@example.com', i * 1.5, date '2020-01-01' + (i % 3000)
        FROM generate_series(1, ${rows}) i;`);
    const dir = freshDir('postgres-source');
    const file = join(dir, 'read.backfill');
    writeFileSync(
      file,
      `---
title: Postgres source benchmark
name: pg-source-bench
owner: bench
---

\`\`\`job id=read
source:
  type: postgres
  url: \${secret:DB_URL}
  query: SELECT id, email, balance, born FROM customers
  key: id
  pageSize: ${pageSize}
  fields: { id: integer, email: string }
action: { type: http, url: "http://127.0.0.1:9/customers/\${record:id}" }
\`\`\`

\`\`\`dry-run id=preview
job: read
\`\`\`
`,
    );
    const result = await measureCli(['dry-run', file, '--json', '--no-write-result'], { DB_URL: server.url });
    assertExit(result, 0, 'backfill dry-run (postgres source)');
    const [report] = JSON.parse(result.stdout);
    if (report.counts.valid !== rows) throw new Error(`${report.counts.valid} of ${rows} rows read as valid`);
    return [
      recordsPerSecondRow(
        `postgres source: dry run reads ${rows.toLocaleString('en-US')} rows in keyset pages of ${pageSize}`,
        rows,
        result,
        {
          target: 'peak RSS ≤ 300 MB',
          met: result.peakMb <= 300,
        },
      ),
    ];
  } finally {
    await server.stop();
  }
}
