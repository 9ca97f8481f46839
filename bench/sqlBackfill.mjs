// Benchmark: a SQL backfill of `rows` rows (UPDATE by primary key, the new value read from another
// table by a postgres source) through `backfill run`, side by side with a hand-written pg loop doing the
// same updates with the same batch size (one transaction per batch) and the same number of connections.
// The tool's share of the hand loop's speed is the figure that matters (goal ≥ 0.8): the difference is
// what the engine costs (reading in keyset pages, checkpoints, the ledger). Both are measured as a process
// from start to exit, so both include starting Node; the tool's start-up (its bundle, the ledger, the
// PREPARE check, about 1–2 s on a loaded machine) is still its own, and dominates at a small size: the
// figure that matters is the full-size one. Needs PostgreSQL 15 from Debian and root (the server runs as
// the `postgres` user), as the tests do.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureNode } from './measure.mjs';
import { startPostgres } from '../test/support/postgresServer.mjs';
import { assertExit, measureCli } from './support/cli.mjs';
import { freshDir } from './support/runbooks.mjs';

const HAND_LOOP = fileURLToPath(new URL('./support/sqlHandLoop.mjs', import.meta.url));

export async function benchSqlBackfill({ rows = 100_000, batchSize = 500, concurrency = 4 } = {}) {
  const server = await startPostgres();
  try {
    await server.query(`CREATE TABLE orders (id int PRIMARY KEY, total numeric);
      CREATE TABLE payments (order_id int PRIMARY KEY, amount numeric);
      INSERT INTO orders (id) SELECT generate_series(1, ${rows});
      INSERT INTO payments SELECT i, i * 2.5 FROM generate_series(1, ${rows}) i;`);
    const dir = freshDir('sql-backfill');
    const file = writeSqlRunbook(dir, { batchSize, concurrency });
    const tool = await measureCli(
      ['run', file, '--cell', 'full', '--execute', '--json', '--no-progress', '--no-write-result'],
      { DB_URL: server.url },
    );
    assertExit(tool, 0, 'backfill run (sql)');
    await expectUpdated(server, rows, 'the backfill');

    await server.query('UPDATE orders SET total = NULL');
    const hand = await measureNode([HAND_LOOP, server.url, String(batchSize), String(concurrency)]);
    assertExit(hand, 0, 'the hand-written pg loop');
    const handSeconds = hand.seconds;
    await expectUpdated(server, rows, 'the hand-written loop');

    const toolRate = rows / tool.seconds;
    const handRate = rows / handSeconds;
    const ratio = toolRate / handRate;
    return [
      {
        name: `SQL backfill: ${rows.toLocaleString('en-US')} UPDATEs by key, batches of ${batchSize}, ${concurrency} connections`,
        figure: `backfill ${Math.round(toolRate).toLocaleString('en-US')} records/s (${tool.seconds.toFixed(1)} s, peak RSS ${Math.round(tool.peakMb)} MB), hand-written pg loop ${Math.round(handRate).toLocaleString('en-US')} records/s: ratio ${ratio.toFixed(2)}`,
        target: 'ratio ≥ 0.8',
        met: ratio >= 0.8,
        recordsPerSecond: Math.round(toolRate),
        handRecordsPerSecond: Math.round(handRate),
        ratio: Math.round(ratio * 100) / 100,
      },
    ];
  } finally {
    await server.stop();
  }
}

function writeSqlRunbook(dir, { batchSize, concurrency }) {
  const file = join(dir, 'sql.backfill');
  writeFileSync(
    file,
    `---
title: SQL benchmark
name: sql-bench
owner: bench
---

\`\`\`job id=totals
source:
  type: postgres
  url: \${secret:DB_URL}
  query: SELECT order_id AS id, amount FROM payments
  key: id
  fingerprint: query
action:
  type: sql
  url: \${secret:DB_URL}
  statement: UPDATE orders SET total = :amount WHERE id = :id
throttle: { rate: 1000000, concurrency: ${concurrency}, batchSize: ${batchSize}, retries: 0, timeoutMs: 60000 }
\`\`\`

\`\`\`execute id=full
job: totals
\`\`\`
`,
  );
  return file;
}

async function expectUpdated(server, rows, who) {
  const [{ n }] = await server.query('SELECT count(*)::int AS n FROM orders WHERE total = id * 2.5');
  if (n !== rows) throw new Error(`${who} updated ${n} of ${rows} rows`);
}
