import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSqlJs } from '../../src/core/support/sqlite';
import { waitFor, type RunningCli } from '../support/cliProcess';
import { keyOf } from '../support/runbookFixture';
import { usePostgresFleet } from '../support/postgresFleet';
import { startTargetServer, type TargetServer } from '../support/targetServer';

const PASSWORD = 'bykey-CANARY-4t8w';

/**
 * Workers sharing a run whose records come from a pg.database. A PostgreSQL query is cut into ranges of the
 * key, each read alone by the worker that claims it, so records whose position in the query moves while
 * the backfill runs (rows deleted, a shrinking selection) still arrive, and a chunk whose rows changed
 * since the run was split is never sent. A SQLite file is part of the fingerprint, so it is cut by line.
 */
describe('backfill worker: database sources', function () {
  this.timeout(180_000);
  const pg = usePostgresFleet('backfill-bykey-', { password: PASSWORD });
  let target: TargetServer;
  afterEach(async () => {
    await target?.stop();
    await pg.database.query('DROP TABLE IF EXISTS items_src');
  });

  /** The source table: `records` rows keyed k00001…, with amounts 1.5, 2.5, … */
  async function fillSource(records: number): Promise<void> {
    await pg.database.query('CREATE TABLE items_src (id text PRIMARY KEY, amount double precision NOT NULL)');
    await pg.database.query(
      `INSERT INTO items_src SELECT 'k' || lpad(i::text, 5, '0'), i + 0.5 FROM generate_series(1, $1) AS i`,
      [records],
    );
  }

  /**
   * A host's copy of the fixture runbook, its ledger in PostgreSQL, reading the table `items_src` of the
   * PostgreSQL server (`fingerprint` set) or of the SQLite file `sqlite` instead of a CSV.
   */
  function host(
    name: string,
    options: { rate: number; chunkSize: number } & (
      { fingerprint: 'rows' | 'query' } | { sqlite: Uint8Array }
    ),
  ) {
    const fixture = { records: 0, rate: options.rate, concurrency: 4 };
    const file = pg.host(name, fixture, `      chunkSize: ${options.chunkSize}\n`);
    const dir = path.dirname(file);
    const text = fs.readFileSync(file, 'utf8');
    if ('sqlite' in options) fs.writeFileSync(path.join(dir, 'items.sqlite'), options.sqlite);
    const fromTable = text.replace(
      '  type: csv\n  path: records.csv\n',
      'sqlite' in options
        ? '  type: sqlite\n  path: items.sqlite\n  query: SELECT id, amount FROM items_src ORDER BY id\n'
        : '  type: postgres\n  url: ${secret:LEDGER_URL}\n  query: SELECT id, amount FROM items_src\n' +
            `  pageSize: 100\n  fingerprint: ${options.fingerprint}\n`,
    );
    assert.notEqual(fromTable, text, 'the fixture runbook no longer reads records.csv');
    fs.writeFileSync(file, fromTable);
    return file;
  }

  function startOn(file: string, as: 'run' | 'worker'): RunningCli {
    return pg.startOn(file, as, target.url);
  }

  async function chunks(): Promise<
    { n: number; key_from: string | null; key_to: string | null; state: string }[]
  > {
    const exists = await pg.database.query<{ t: string | null }>(
      "SELECT to_regclass('backfill.chunks') AS t",
    );
    if (exists[0]?.t === null) return [];
    return pg.database.query('SELECT n, key_from, key_to, state FROM backfill.chunks ORDER BY n');
  }

  async function waitForChunks(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ((await chunks()).length === 0) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the run to be split into chunks');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Keys `from`..`to` (1-based, inclusive) as the fixture names them. */
  const keys = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => keyOf(from + i));

  it('cuts the run into key ranges; workers that join after the first rows were deleted still send every row once', async () => {
    const RECORDS = 2000;
    await fillSource(RECORDS);
    target = await startTargetServer(() => ({ delayMs: 2 }));
    const options = { rate: 150, chunkSize: 250, fingerprint: 'query' as const };
    const run = startOn(host('a', options), 'run');
    await waitForChunks();

    // Key ranges, not line ranges: chunk n ends at the 250·(n+1)-th key, and the last one has no end.
    const cut = await chunks();
    assert.equal(cut.length, RECORDS / 250 + 1);
    assert.equal(cut[0]!.key_from, null);
    assert.equal(cut[0]!.key_to, JSON.stringify(keyOf(250)));
    assert.equal(cut[5]!.key_from, JSON.stringify(keyOf(1250)));
    assert.equal(cut.at(-1)!.key_to, null);

    // Rows already sent leave the table, so every later row sits 500 places earlier in the query when the
    // workers read it. Chunks of ordinals would give them other rows than the run was cut from: some
    // twice, some never.
    await waitFor(
      () => keys(1, 500).every((key) => target.countsByKey().has(key)),
      'k00001…k00500 to arrive',
      60_000,
    );
    await pg.database.query("DELETE FROM items_src WHERE id <= 'k00500'");
    const workers = [startOn(host('b', options), 'worker'), startOn(host('c', options), 'worker')];
    const codes = await Promise.all([run, ...workers].map((cli) => cli.exitedWith));
    assert.deepEqual(
      codes,
      [0, 0, 0],
      [run, ...workers].map((cli) => cli.stdout() + cli.stderr()).join('\n----\n'),
    );
    assert.deepEqual([...target.countsByKey().keys()].sort(), keys(1, RECORDS));
    const twice = [...target.countsByKey()].filter(([, count]) => count > 1);
    assert.deepEqual(twice, [], 'no row was sent twice');
    assert.ok((await chunks()).every((chunk) => chunk.state === 'done'));
    const [stored] = await pg.database.query<{ n: string }>(
      "SELECT COUNT(*) AS n FROM backfill.records WHERE status = 'succeeded'",
    );
    assert.equal(Number(stored?.n), RECORDS);
  });

  it('with fingerprint: rows, refuses a chunk whose rows changed after the run was split, before sending any of it', async () => {
    const RECORDS = 1000;
    await fillSource(RECORDS);
    target = await startTargetServer(() => ({}));
    const run = startOn(host('a', { rate: 300, chunkSize: 100, fingerprint: 'rows' }), 'run');
    await waitForChunks();
    await waitFor(() => target.arrivals.length > 0, 'the first record to arrive', 60_000);
    await pg.database.query("UPDATE items_src SET amount = 0 WHERE id = 'k00950'");

    assert.equal(await run.exitedWith, 2, run.stdout() + run.stderr());
    assert.match(run.stderr(), /source data changed.*keys after "k00900" up to "k01000"/);
    // The nine chunks before it were sent whole; nothing of the changed one.
    assert.deepEqual([...target.countsByKey().keys()].sort(), keys(1, 900));
  });

  it('cuts a run reading a SQLite file by line; a worker on another host with the same file shares it', async () => {
    const RECORDS = 1500;
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.run('CREATE TABLE items_src (id TEXT PRIMARY KEY, amount REAL NOT NULL)');
    for (let i = 1; i <= RECORDS; i += 1) db.run('INSERT INTO items_src VALUES (?, ?)', [keyOf(i), i + 0.5]);
    const sqlite = db.export();
    db.close();
    target = await startTargetServer(() => ({ delayMs: 2 }));
    const options = { rate: 400, chunkSize: 100, sqlite };
    const run = startOn(host('a', options), 'run');
    await waitForChunks();
    const worker = startOn(host('b', options), 'worker');

    const codes = await Promise.all([run, worker].map((cli) => cli.exitedWith));
    assert.deepEqual(codes, [0, 0], run.stdout() + run.stderr() + worker.stdout() + worker.stderr());
    assert.deepEqual([...target.countsByKey().keys()].sort(), keys(1, RECORDS));
    assert.equal(target.arrivals.length, RECORDS, 'no record was sent twice');
    const cut = await chunks();
    assert.equal(cut.length, RECORDS / 100);
    assert.ok(
      cut.every((chunk) => chunk.key_from === null && chunk.key_to === null && chunk.state === 'done'),
    );
    const [byWorker] = await pg.database.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM backfill.chunks WHERE split_part(worker, ':', 2) = '${worker.child.pid}'`,
    );
    assert.ok(Number(byWorker?.n) >= 1, 'the worker did no chunk');
  });
});
