import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../support/cli';
import { startCli } from '../support/cliProcess';
import { countUpdates, killDuringCommit, slowCommitOnce, usePostgres } from '../support/sqlTables';

const ROWS = 120;

/**
 * A backfill whose query excludes the rows it fixed (`WHERE paid_cents IS NULL`, `fingerprint: query`),
 * killed mid-run. The chain is merged by line past BACKFILL_TEST_KEYS_IN_MEMORY (as past 250,000
 * records), and the lines of such a query move as it runs: a record whose line does not hold its key is
 * looked up by key.
 */
describe('resuming a SQL backfill whose query excludes the rows it fixed', function () {
  this.timeout(120_000);
  const db = usePostgres();

  for (const keysInMemory of ['1000', '10']) {
    it(`resumes by key and updates every row exactly once with ${keysInMemory} keys in memory`, async () => {
      await db.pg.query('DROP TABLE IF EXISTS s_orders, backfill_applied');
      await db.pg.query(
        'CREATE TABLE s_orders (id int PRIMARY KEY, cents int, paid_cents int, updates int DEFAULT 0)',
      );
      await db.pg.query(
        `INSERT INTO s_orders (id, cents) SELECT i, i * 10 FROM generate_series(1, ${ROWS}) i`,
      );
      await countUpdates(db.pg, 's_orders');
      // The batch of order 33 sleeps in its COMMIT, once: the kill lands while it commits.
      await slowCommitOnce(db.pg, 's_orders', 33);
      const file = path.join(db.dir, 'paid.backfill');
      fs.writeFileSync(
        file,
        `---
title: Paid cents
name: paid-cents
owner: Tests
environments:
  staging:
    production: false
---

\`\`\`job id=paid
source:
  type: postgres
  url: \${secret:DB_URL}
  query: SELECT id, cents FROM s_orders WHERE paid_cents IS NULL
  key: id
  pageSize: 10
  fingerprint: query
action:
  type: sql
  url: \${secret:DB_URL}
  statement: UPDATE s_orders SET paid_cents = :cents WHERE id = :id
throttle:
  rate: 10000
  concurrency: 2
  batchSize: 5
\`\`\`

\`\`\`execute id=full
job: paid
\`\`\`
`,
      );
      const env = { DB_URL: db.pg.url, BACKFILL_TEST_KEYS_IN_MEMORY: keysInMemory };
      const first = startCli(['run', file, '--cell', 'full', '--execute', '--no-write-result'], env);
      await killDuringCommit(db.pg, first);

      // Its lines moved (the rows it fixed are gone from the query): past the key memory the resume
      // looks the moved keys up in the ledger instead of refusing.
      const resumed = await runCli(['run', file, '--cell', 'full', '--execute', '--no-write-result'], {
        env,
      });
      assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
      const rows = await db.pg.query<{ id: number; paid_cents: number; updates: number }>(
        'SELECT id, paid_cents, updates FROM s_orders ORDER BY id',
      );
      assert.ok(
        rows.every((row) => row.paid_cents === row.id * 10),
        'every row paid',
      );
      assert.deepEqual(
        rows.filter((row) => row.updates !== 1).map((row) => row.id),
        [],
        'every row updated exactly once',
      );
    });
  }
});
