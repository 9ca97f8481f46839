import assert from 'node:assert/strict';
import { loadSqlJs } from '../../../src/core/support/sqlite';
import { openSource } from '../../../src/core/sources/openSource';
import { UserError } from '../../../src/core/model/types';
import { collect, sourceSpec, useTempDir } from './helpers';

const query = (sql: string) => sourceSpec({ type: 'sqlite', path: 'orders.db', query: sql });

describe('sqliteSource', () => {
  const temp = useTempDir();

  before(async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.run(`
      CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL, external_id INTEGER, receipt BLOB);
      INSERT INTO orders VALUES (1, 'Ada', 12.5, 42, NULL);
      INSERT INTO orders VALUES (2, 'Zoë', 7, 9007199254740993, x'cafe');
      INSERT INTO orders VALUES (3, NULL, NULL, NULL, NULL);
    `);
    temp.write('orders.db', db.export());
    db.close();
    temp.write('not-a-db.db', 'just text, no database here');
  });

  it('yields one record per row, numbered from 1, with SQLite values as JSON values', async () => {
    const items = await collect(
      openSource(query('SELECT * FROM orders ORDER BY id'), { baseDir: temp.path }),
    );
    assert.deepEqual(items, [
      {
        kind: 'record',
        line: 1,
        fields: { id: 1, customer: 'Ada', amount: 12.5, external_id: 42, receipt: null },
      },
      {
        kind: 'record',
        line: 2,
        // Beyond 2^53 an integer stays exact as a string; a blob becomes base64.
        fields: { id: 2, customer: 'Zoë', amount: 7, external_id: '9007199254740993', receipt: 'yv4=' },
      },
      {
        kind: 'record',
        line: 3,
        fields: { id: 3, customer: null, amount: null, external_id: null, receipt: null },
      },
    ]);
  });

  it('fails with the SQLite error when the query is wrong', async () => {
    const stream = openSource(query('SELECT * FROM order_lines'), { baseDir: temp.path });
    await assert.rejects(collect(stream), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(
        error.message,
        /the SQLite query failed on .*orders\.db: no such table: order_lines \(query: SELECT \* FROM order_lines\)/,
      );
      return true;
    });
  });

  it('refuses a query that would write', async () => {
    await assert.rejects(
      collect(openSource(query('DELETE FROM orders RETURNING id'), { baseDir: temp.path })),
      /readonly database/,
    );
    const items = await collect(openSource(query('SELECT id FROM orders'), { baseDir: temp.path }));
    assert.equal(items.length, 3);
  });

  it('fails clearly on a file that is not a SQLite database', async () => {
    const spec = sourceSpec({ type: 'sqlite', path: 'not-a-db.db', query: 'SELECT 1' });
    await assert.rejects(
      collect(openSource(spec, { baseDir: temp.path })),
      /not-a-db\.db: file is not a database/,
    );
  });

  it('stops between rows when the signal aborts', async () => {
    const controller = new AbortController();
    const stream = openSource(query('SELECT id FROM orders ORDER BY id'), {
      baseDir: temp.path,
      signal: controller.signal,
    });
    const seen: number[] = [];
    const error = await (async () => {
      for await (const item of stream) {
        seen.push(item.line);
        controller.abort();
      }
    })().catch((caught: unknown) => caught);
    assert.deepEqual(seen, [1]);
    assert.equal((error as Error).name, 'AbortError');
  });

  it('hashes the file together with the query, so another query is other data', async () => {
    const hashOf = async (sql: string) => {
      const stream = openSource(query(sql), { baseDir: temp.path });
      await collect(stream);
      return stream.contentHash();
    };
    const hash = await hashOf('SELECT id FROM orders');
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(await hashOf('SELECT id FROM orders'), hash);
    assert.notEqual(await hashOf('SELECT id FROM orders WHERE id > 1'), hash);
  });
});
