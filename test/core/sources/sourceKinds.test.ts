import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { JobCellSchema, SourceSchema } from '../../../src/core/format/schemas';
import { sourceCommonFieldHelp } from '../../../src/core/sources/sourceFields';
import { sourceKinds } from '../../../src/core/sources/sourceKinds';
import { loadSqlJs } from '../../../src/core/support/sqlite';
import { startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';
import { itChecksEveryRegisteredKind } from '../kindRegistry';
import { collect, fixtures, sourceSpec, useTempDir } from './helpers';

/** One valid spec per kind: a kind added to the registry without one here fails. */
const EXAMPLES: Record<string, Record<string, unknown>> = {
  csv: { type: 'csv', path: 'orders.csv' },
  jsonl: { type: 'jsonl', path: 'people.jsonl' },
  json: { type: 'json', path: 'records.json' },
  sqlite: { type: 'sqlite', path: 'orders.db', query: 'SELECT id FROM orders ORDER BY id' },
  command: { type: 'command', argv: [process.execPath, `${fixtures}/print-records.js`] },
  inline: { type: 'inline', records: [{ id: 1 }, { id: 2 }] },
  // Its URL is the server's, known once `before` has started it.
  postgres: { type: 'postgres', url: 'set in before', query: 'SELECT id FROM orders' },
};

describe('source kinds', () => {
  const temp = useTempDir();
  let pg: PostgresServer | undefined;

  before(async function () {
    this.timeout(60_000);
    pg = await startPostgres();
    await pg.query('CREATE TABLE orders (id integer PRIMARY KEY); INSERT INTO orders VALUES (1), (2);');
    EXAMPLES.postgres!.url = pg.url;
    for (const name of ['orders.csv', 'people.jsonl', 'records.json']) {
      copyFileSync(`${fixtures}/${name}`, `${temp.path}/${name}`);
    }
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.run('CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders VALUES (1), (2);');
    temp.write('orders.db', db.export());
    db.close();
  });
  after(() => pg?.stop());

  itChecksEveryRegisteredKind({
    kinds: sourceKinds,
    union: SourceSchema,
    cellField: JobCellSchema.shape.source,
    examples: EXAMPLES,
    common: Object.keys(sourceCommonFieldHelp),
  });

  for (const kind of sourceKinds) {
    describe(`the ${kind.type} kind`, () => {
      it('describes itself in words, and hashes its content before reading exactly as its stream does', async () => {
        const spec = sourceSpec(EXAMPLES[kind.type]!);
        assert.equal(spec.type, kind.type);
        assert.match(kind.describe(spec as never), new RegExp(`^${kind.type}\\b`));
        const stream = kind.open(spec as never, { baseDir: temp.path });
        const items = await collect(stream);
        assert.ok(items.some((item) => item.kind === 'record'));
        const before = await kind.contentHash(spec as never, { baseDir: temp.path });
        assert.match(before, /^[0-9a-f]{64}$/);
        assert.equal(before, stream.contentHash());
      });
    });
  }

  it('hashes a SQLite source as its file and its query: the same file queried differently differs', async () => {
    const sqlite = sourceKinds.find((kind) => kind.type === 'sqlite')!;
    const hash = (query: string) =>
      sqlite.contentHash(sourceSpec({ type: 'sqlite', path: 'orders.db', query }) as never, {
        baseDir: temp.path,
      });
    assert.notEqual(await hash('SELECT id FROM orders'), await hash('SELECT id FROM orders WHERE id > 1'));
  });
});
