import { strict as assert } from 'node:assert';
import { PostgresLedger } from '../../../src/core/ledger/postgresLedger';
import { POSTGRES_SCHEMA_VERSION } from '../../../src/core/ledger/postgresSchema';
import { UserError } from '../../../src/core/model/types';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';
import { all, outcome } from './helpers';

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
