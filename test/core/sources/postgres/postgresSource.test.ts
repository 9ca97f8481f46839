import { strict as assert } from 'node:assert';
import { openSource } from '../../../../src/core/sources/openSource';
import { SourceSchema } from '../../../../src/core/format/schemas';
import { sourceKindOf } from '../../../../src/core/sources/sourceKinds';
import { SecretResolver } from '../../../../src/core/secrets/secrets';
import type { SourceItem } from '../../../../src/core/model/types';
import { UserError } from '../../../../src/core/model/types';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../../support/postgresServer.mjs';

async function readAll(
  source: Record<string, unknown>,
  env: Record<string, string> = {},
  secrets: Record<string, string> = {},
) {
  const spec = SourceSchema.parse({ type: 'postgres', url: '${secret:DB_URL}', key: 'id', ...source });
  const stream = openSource(spec, {
    baseDir: '/',
    connection: { env, secrets: new SecretResolver(secrets) },
    location: { file: 'orders.backfill', cell: 'fix', line: 12 },
  });
  const items: SourceItem[] = [];
  for await (const item of stream) items.push(item);
  return { items, hash: stream.contentHash() };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return [
      error.message,
      ...error.issues.map((i) => `${i.file}:${i.line}: cell ${i.cell}: ${i.field}: ${i.message}`),
    ].join('\n');
  }
  throw new Error('expected the source to be refused');
}

describe('postgres source', function () {
  this.timeout(60_000);
  let pg: PostgresServer;
  let secrets: Record<string, string>;

  before(async function () {
    if (postgresUnavailable()) this.skip();
    pg = await startPostgres();
    secrets = { DB_URL: pg.url };
    await pg.query(
      `CREATE TABLE customers (id bigint PRIMARY KEY, email text, tier text, balance numeric, born date)`,
    );
    await pg.query(
      `INSERT INTO customers SELECT i, 'c' || i || '@example.com', CASE WHEN i % 2 = 0 THEN 'gold' ELSE 'basic' END, i * 1.5, date '2020-01-01' + i FROM generate_series(1, 10) i`,
    );
  });
  after(() => pg?.stop());

  it('reads every row once, in key order, across keyset pages', async () => {
    const { items } = await readAll({ query: 'SELECT id, email FROM customers', pageSize: 3 }, {}, secrets);
    const ids = items.map((item) => (item.kind === 'record' ? item.fields.id : undefined));
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(items[0], { kind: 'record', line: 1, fields: { id: 1, email: 'c1@example.com' } });
  });

  it('binds named parameters from the environment as values, so a quote is data', async () => {
    const env = { TIER: 'gold' };
    const { items } = await readAll(
      {
        query: "SELECT id FROM customers WHERE tier = :tier AND email <> ':not_a_param'",
        params: { tier: '${env:TIER}' },
      },
      env,
      secrets,
    );
    assert.equal(items.length, 5);
    const hostile = await readAll(
      {
        query: 'SELECT id FROM customers WHERE tier = :tier',
        params: { tier: "'); DROP TABLE customers; --" },
      },
      {},
      secrets,
    );
    assert.equal(hostile.items.length, 0);
    assert.equal((await pg.query('SELECT count(*)::int AS n FROM customers'))[0]!.n, 10);
  });

  it('keeps the exact text of numerics and dates and hashes the rows as read', async () => {
    const spec = { query: 'SELECT id, balance, born FROM customers WHERE id <= 2' };
    const first = await readAll(spec, {}, secrets);
    assert.deepEqual(first.items[1], {
      kind: 'record',
      line: 2,
      fields: { id: 2, balance: '3.0', born: '2020-01-03' },
    });
    assert.equal((await readAll(spec, {}, secrets)).hash, first.hash);
    await pg.query(`UPDATE customers SET balance = 99 WHERE id = 2`);
    const changed = await readAll(spec, {}, secrets);
    assert.notEqual(changed.hash, first.hash);
    const queryOnly = await readAll({ ...spec, fingerprint: 'query' }, {}, secrets);
    await pg.query(`UPDATE customers SET balance = 3.0 WHERE id = 2`);
    assert.equal((await readAll({ ...spec, fingerprint: 'query' }, {}, secrets)).hash, queryOnly.hash);
  });

  it('hashes a fingerprint: query source before reading exactly as reading it does, rows and NULL keys aside', async () => {
    const source = {
      query: 'SELECT id, email FROM customers WHERE tier = :tier',
      params: { tier: '${env:TIER}' },
      fingerprint: 'query',
    };
    const spec = SourceSchema.parse({ type: 'postgres', url: '${secret:DB_URL}', key: 'id', ...source });
    const connection = { env: { TIER: 'gold' }, secrets: new SecretResolver(secrets) };
    const upFront = await sourceKindOf(spec).contentHash(spec, { baseDir: '/', connection });
    assert.equal((await readAll(source, { TIER: 'gold' }, secrets)).hash, upFront);
    await pg.query(`INSERT INTO customers (id, email, tier) VALUES (100, 'late@example.com', 'gold')`);
    try {
      assert.equal((await readAll(source, { TIER: 'gold' }, secrets)).hash, upFront);
    } finally {
      await pg.query('DELETE FROM customers WHERE id = 100');
    }
    const basic = await sourceKindOf(spec).contentHash(spec, {
      baseDir: '/',
      connection: { ...connection, env: { TIER: 'basic' } },
    });
    assert.notEqual(basic, upFront);
  });

  it('refuses a query that does not return the key column, at the cell', async () => {
    const message = await refusal(readAll({ query: 'SELECT email FROM customers' }, {}, secrets));
    assert.match(
      message,
      /orders\.backfill:12: cell fix: source\.key: the query returns no column "id" \(it returns email\)/,
    );
  });

  it('refuses a key that is not unique, even when the repeat falls on a page boundary', async () => {
    const message = await refusal(
      readAll({ query: 'SELECT id / 2 AS id FROM customers', pageSize: 2 }, {}, secrets),
    );
    assert.match(message, /source\.key: the key "id" is not unique: 1 appears more than once/);
  });

  it('refuses a key that cannot be ordered', async () => {
    const message = await refusal(
      readAll({ query: `SELECT json_build_object('n', id) AS id FROM customers` }, {}, secrets),
    );
    assert.match(message, /source\.key: the key "id" cannot be ordered/);
  });

  it('reports a SQL error with the database message at the cell', async () => {
    const message = await refusal(readAll({ query: 'SELECT id, nope FROM customers' }, {}, secrets));
    assert.match(
      message,
      /orders\.backfill:12: cell fix: source\.query: PostgreSQL says: column "nope" does not exist \(42703\)/,
    );
  });

  it('refuses a parameter the params do not set', async () => {
    const message = await refusal(
      readAll({ query: 'SELECT id FROM customers WHERE tier = :tier' }, {}, secrets),
    );
    assert.match(message, /source\.params: the query uses :tier but params does not set it/);
  });

  it('rejects rows whose key is NULL, and reads the others', async () => {
    const { items } = await readAll(
      { query: 'SELECT NULLIF(id, 3) AS id FROM customers', pageSize: 4 },
      {},
      secrets,
    );
    assert.equal(items.filter((i) => i.kind === 'record').length, 9);
    assert.deepEqual(items.at(-1), {
      kind: 'rejected',
      line: 10,
      reason: 'the key "id" is NULL in this row',
    });
  });

  it('says a missing URL secret is not set', async () => {
    const message = await refusal(readAll({ query: 'SELECT id FROM customers' }));
    assert.match(message, /source\.url: secret DB_URL is not set: export DB_URL=/);
  });

  it('says the password is wrong without showing it', async function () {
    const locked = await startPostgres({ password: 'Hunter2-correct' });
    try {
      const url = locked.url.replace('Hunter2-correct', 'Wrong-pass-123');
      const message = await refusal(readAll({ query: 'SELECT 1 AS id' }, {}, { DB_URL: url }));
      assert.match(
        message,
        /cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/postgres: password authentication failed/,
      );
      assert.doesNotMatch(message, /Wrong-pass-123|Hunter2/);
      const down = await refusal(
        readAll({ query: 'SELECT 1 AS id' }, {}, { DB_URL: 'postgresql://u:Secret-pw-9@127.0.0.1:9/x' }),
      );
      assert.match(down, /is the database running/);
      assert.doesNotMatch(down, /Secret-pw-9/);
    } finally {
      await locked.stop();
    }
  });
});
