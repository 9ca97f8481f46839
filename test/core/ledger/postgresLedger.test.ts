import { strict as assert } from 'node:assert';
import { PostgresLedger } from '../../../src/core/ledger/postgresLedger';
import { POSTGRES_SCHEMA_VERSION } from '../../../src/core/ledger/postgresSchema';
import { UserError } from '../../../src/core/model/types';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';
import { ChunkLeases, insertChunks } from '../../../src/core/fleet/chunkLeases';
import { all, outcome, run } from './helpers';

/** What only a ledger shared by many processes must do; the rest is the contract (postgresLedgerContract). */
describe('the PostgreSQL ledger, shared by many processes', function () {
  this.timeout(120_000);
  let server: PostgresServer;
  const opened: PostgresLedger[] = [];
  const open = async (name: string, schema?: string) => {
    const ledger = await PostgresLedger.open({ url: server.url, name, ...(schema ? { schema } : {}) });
    opened.push(ledger);
    return ledger;
  };

  before(async function () {
    if (postgresUnavailable()) this.skip();
    server = await startPostgres({ password: 'pw-CANARY-7f3k2' });
  });
  afterEach(async () => {
    for (const ledger of opened.splice(0)) await ledger.close();
  });
  after(async () => server?.stop());

  it('creates its schema once when many processes open a new database at the same moment', async () => {
    const ledgers = await Promise.all(Array.from({ length: 6 }, () => open('race', 'fresh_schema')));
    assert.equal(ledgers.length, 6);
    const rows = await server.query("SELECT value FROM fresh_schema.meta WHERE key = 'schema_version'");
    assert.deepEqual(rows, [{ value: String(POSTGRES_SCHEMA_VERSION) }]);
  });

  it('keeps every outcome that concurrent connections record, each visible to all of them', async () => {
    const writers = await Promise.all(Array.from({ length: 4 }, () => open('shared')));
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let batch = 0; batch < 10; batch += 1) {
          const outcomes = Array.from({ length: 250 }, (_, i) => {
            const n = w * 2500 + batch * 250 + i;
            return outcome(`k${String(n).padStart(5, '0')}`, { line: n + 2 });
          });
          await writer.recordOutcomes(outcomes);
        }
      }),
    );
    const [count] = await server.query(
      "SELECT COUNT(*)::int AS n FROM backfill.records r JOIN backfill.chains c ON c.id = r.chain WHERE c.ledger = 'shared'",
    );
    assert.equal(count?.n, 10_000);
    for (const writer of writers) assert.equal((await writer.countByStatus('chain-1')).succeeded, 10_000);
    // Streamed a page at a time, in line order, across page boundaries.
    const streamed = (await all(writers[0]!.outcomes({ chain: 'chain-1' }))).map((o) => o.line);
    assert.equal(streamed.length, 10_000);
    assert.deepEqual(
      streamed,
      [...streamed].sort((a, b) => a - b),
    );
  });

  it('keeps ledgers of different names apart in one database', async () => {
    const orders = await open('orders');
    const refunds = await open('refunds');
    await orders.recordOutcomes([outcome('1')]);
    assert.equal((await refunds.countByStatus('chain-1')).succeeded, 0);
    assert.deepEqual(await all(refunds.outcomes()), []);
    assert.equal((await orders.countByStatus('chain-1')).succeeded, 1);
  });

  it('refuses a database written by a newer backfill and leaves it as it is', async () => {
    await open('any', 'newer');
    await server.query("UPDATE newer.meta SET value = '99' WHERE key = 'schema_version'");
    await assert.rejects(open('any', 'newer'), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /newer backfill \(version 99\): upgrade backfill/);
      return true;
    });
    assert.deepEqual(await server.query("SELECT value FROM newer.meta WHERE key = 'schema_version'"), [
      { value: '99' },
    ]);
  });

  /** The chain's counts as a GROUP BY over its records gives them: the truth the tallies must equal. */
  const trueCounts = async (name: string) =>
    server.query(
      `SELECT r.status, coalesce(r.error_kind, '') AS kind, r.run, COUNT(*)::int AS n
         FROM backfill.records r JOIN backfill.chains c ON c.id = r.chain
        WHERE c.ledger = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      [name],
    );
  /** What `tallies` holds for the ledger, summed over the connections that counted. */
  const tallied = async (name: string) =>
    server.query(
      `SELECT t.status, t.error_kind AS kind, t.run, SUM(t.n)::int AS n
         FROM backfill.tallies t JOIN backfill.chains c ON c.id = t.chain
        WHERE c.ledger = $1 GROUP BY 1, 2, 3 HAVING SUM(t.n) <> 0 ORDER BY 1, 2, 3`,
      [name],
    );

  it('keeps its counts as outcomes are written, across connections and replaced outcomes, equal to its records', async () => {
    const writers = await Promise.all(Array.from({ length: 4 }, () => open('tallied')));
    const failed = { status: 'failed' as const, errorKind: 'http-5xx' as const, lastError: 'HTTP 500' };
    // Each writer records its own keys and, at the same time as another writer, 100 shared ones (a record
    // repeated by two workers after a lease was taken over): some fail, then a later run retries them.
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let batch = 0; batch < 5; batch += 1) {
          await writer.recordOutcomes(
            Array.from({ length: 100 }, (_, i) =>
              outcome(i % 2 === 0 ? `own-${w}-${batch}-${i}` : `shared-${batch}-${i}`, {
                line: i + 2,
                ...(i % 7 === 0 ? failed : {}),
              }),
            ),
          );
        }
      }),
    );
    await writers[0]!.recordOutcomes(
      Array.from({ length: 50 }, (_, i) =>
        outcome(`own-1-0-${i * 2}`, { run: 'run-2', status: 'succeeded' }),
      ),
    );
    const truth = await trueCounts('tallied');
    assert.ok(truth.some((row) => row.run === 'run-2') && truth.some((row) => row.status === 'failed'));
    assert.deepEqual(await tallied('tallied'), truth);
    const shards = await server.query(
      "SELECT DISTINCT t.shard FROM backfill.tallies t JOIN backfill.chains c ON c.id = t.chain WHERE c.ledger = 'tallied'",
    );
    assert.ok(shards.length >= 4, 'each connection counts into rows of its own');
    const read = await writers[2]!.tallyChain('chain-1');
    const asRows = read
      .map((t) => ({ status: t.status, kind: t.errorKind ?? '', run: t.run, n: t.count }))
      .sort((a, b) => `${a.status} ${a.kind} ${a.run}`.localeCompare(`${b.status} ${b.kind} ${b.run}`));
    assert.deepEqual(asRows, truth);
  });

  it('counts what a ledger of an earlier version already holds when it migrates it', async () => {
    const ledger = await open('older', 'older');
    await ledger.recordOutcomes([outcome('a'), outcome('b', { status: 'failed' }), outcome('c')]);
    await ledger.close();
    opened.splice(opened.indexOf(ledger), 1);
    // Back to version 3: no tallies, no triggers (and no chunks' first bytes, version 5).
    await server.query(`DROP TABLE older.tallies; DROP FUNCTION older.tally_inserted, older.tally_updated,
      older.tally_deleted CASCADE; ALTER TABLE older.chunks DROP COLUMN first_byte;
      UPDATE older.meta SET value = '3' WHERE key = 'schema_version'`);
    const migrated = await open('older', 'older');
    assert.deepEqual(await migrated.countByStatus('chain-1'), {
      ...(await migrated.countByStatus('none')),
      succeeded: 2,
      failed: 1,
    });
    await migrated.recordOutcomes([outcome('b')]);
    assert.equal((await migrated.countByStatus('chain-1')).succeeded, 3);
    assert.equal((await migrated.countByStatus('chain-1')).failed, 0);
  });

  it("keeps a version 4 ledger's chunks when it migrates it, with no first byte, and keeps the first bytes of new ones", async () => {
    const ledger = await open('chunky', 'chunky');
    await ledger.startRun(run('old-run'));
    await ledger.startRun(run('new-run'));
    await ledger.close();
    opened.splice(opened.indexOf(ledger), 1);
    // Back to version 4, with a chunk split by a backfill of that version.
    await server.query(`ALTER TABLE chunky.chunks DROP COLUMN first_byte;
      UPDATE chunky.meta SET value = '4' WHERE key = 'schema_version';
      INSERT INTO chunky.chunks (ledger, run, n, first_line, last_line) VALUES ('chunky', 'old-run', 0, 0, 99)`);
    const migrated = await open('chunky', 'chunky');
    assert.deepEqual(await server.query("SELECT value FROM chunky.meta WHERE key = 'schema_version'"), [
      { value: String(POSTGRES_SCHEMA_VERSION) },
    ]);
    assert.equal(POSTGRES_SCHEMA_VERSION, 5);
    const scope = { schema: 'chunky', ledger: 'chunky' };
    await insertChunks(migrated, { ...scope, run: 'new-run' }, [
      { n: 0, firstLine: 0, lastLine: 9, firstByte: 0 },
      { n: 1, firstLine: 10, lastLine: 19, firstByte: 1234 },
    ]);
    assert.deepEqual(await server.query('SELECT run, n, first_byte FROM chunky.chunks ORDER BY run, n'), [
      { run: 'new-run', n: 0, first_byte: '0' },
      { run: 'new-run', n: 1, first_byte: '1234' },
      { run: 'old-run', n: 0, first_byte: null },
    ]);
    const oldRun = await ChunkLeases.connect(server.url, { ...scope, run: 'old-run' }, 'w1', 30);
    const newRun = await ChunkLeases.connect(server.url, { ...scope, run: 'new-run' }, 'w1', 30);
    try {
      assert.deepEqual(await oldRun.claim(0), { n: 0, firstLine: 0, lastLine: 99, claims: 1 });
      assert.deepEqual(await newRun.claim(1), {
        n: 1,
        firstLine: 10,
        lastLine: 19,
        firstByte: 1234,
        claims: 1,
      });
    } finally {
      await oldRun.close();
      await newRun.close();
    }
  });

  it('never shows its password: not where it is, not when the connection is refused', async () => {
    const ledger = await open('quiet');
    assert.doesNotMatch(ledger.location, /CANARY/);
    assert.match(ledger.location, /127\.0\.0\.1/);
    const wrong = server.url.replace(encodeURIComponent('pw-CANARY-7f3k2'), 'pw-CANARY-wrong1');
    await assert.rejects(PostgresLedger.open({ url: wrong, name: 'quiet' }), (error: Error) => {
      assert.ok(error instanceof UserError);
      assert.doesNotMatch(error.message, /CANARY/);
      assert.match(error.message, /check the user and password/);
      return true;
    });
  });
});
