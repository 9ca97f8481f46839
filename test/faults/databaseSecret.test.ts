import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { allFiles, runCli, tempDir, type CliResult } from '../support/cli';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../support/postgresServer.mjs';
import { writeSqlRunbook } from '../support/sqlRunbook';

/** The database's password, and a wrong one; neither may be shown or written anywhere. */
const PASSWORD = 'PgCanary7Zq-S3cr3t';
const WRONG = 'WrongPw4Kx-n0tIt';

const VERIFY = `
\`\`\`verify id=check
job: totals
check:
  type: postgres
  url: \${secret:DB_URL}
  query: SELECT total::text AS total FROM orders WHERE id = :id
  expect:
    columns:
      total: \${record:amount}
\`\`\`
`;

describe('the database password in a connection URL', function () {
  this.timeout(180_000);
  let pg: PostgresServer;
  let work: ReturnType<typeof tempDir>;

  before(async function () {
    if (postgresUnavailable()) this.skip();
    pg = await startPostgres({ password: PASSWORD });
  });
  after(() => pg?.stop());
  beforeEach(async () => {
    work = tempDir('backfill-pgsecret-');
    await pg.query('DROP TABLE IF EXISTS orders, payments');
    await pg.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric, note text)');
    await pg.query('CREATE TABLE payments (order_id int PRIMARY KEY, amount text, note text)');
    await pg.query('INSERT INTO orders (id) SELECT generate_series(1, 6)');
    await pg.query(
      `INSERT INTO payments SELECT i, (i * 2.5)::text, 'paid ' || i FROM generate_series(1, 6) i`,
    );
  });
  afterEach(() => work.cleanup());

  /** Every file under the runbook's folder and everything printed that holds either password. */
  function leaks(printed: { what: string; result: CliResult }[]): string[] {
    const found: string[] = [];
    for (const file of allFiles(work.dir)) {
      const bytes = fs.readFileSync(file);
      for (const secret of [PASSWORD, WRONG])
        if (bytes.includes(secret)) found.push(`${file} holds ${secret}`);
    }
    for (const { what, result } of printed) {
      for (const secret of [PASSWORD, WRONG]) {
        if ((result.stdout + result.stderr).includes(secret)) found.push(`${what} printed ${secret}`);
      }
    }
    return found;
  }

  it('is never written or printed when given as ${secret:…} in the URL, through a whole backfill', async () => {
    const url = `postgresql://backfill:\${secret:DB_PASSWORD}@127.0.0.1:${pg.port}/postgres`;
    const file = writeSqlRunbook(work.dir, { extraCells: VERIFY });
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll('${secret:DB_URL}', url));
    const env = { DB_PASSWORD: PASSWORD };
    const printed: { what: string; result: CliResult }[] = [];
    const cli = async (args: string[]) => {
      const result = await runCli(args, { env });
      printed.push({ what: args.slice(0, 3).join(' '), result });
      return result;
    };
    assert.equal((await cli(['dry-run', file, '--cell', 'preview', '--json'])).code, 0);
    const run = await cli(['run', file, '--cell', 'full', '--execute', '--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal((await cli(['run', file, '--cell', 'check'])).code, 0);
    for (const args of [
      ['status', file, '--json'],
      ['ledger', file, '--format', 'jsonl'],
      ['report', file],
      ['report', file, '--format', 'md'],
    ])
      await cli(args);
    // The password was used: every row was updated through it.
    const updated = await pg.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orders WHERE total IS NOT NULL',
    );
    assert.equal(updated[0]!.n, 6);
    assert.ok(
      allFiles(work.dir).some((f) => f.endsWith('.report.html')),
      'the report was written and is checked',
    );
    assert.ok(
      allFiles(work.dir).some((f) => f.endsWith('ledger.sqlite')),
      'the ledger was written and is checked',
    );
    assert.deepEqual(leaks(printed), []);
  });

  it('is refused, before anything is recorded, when it comes from ${env:…} (a var the run would record)', async () => {
    const url = `postgresql://backfill:\${env:PGPW}@127.0.0.1:${pg.port}/postgres`;
    const file = writeSqlRunbook(work.dir, { extraCells: VERIFY });
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll('${secret:DB_URL}', url));
    const printed: { what: string; result: CliResult }[] = [];
    for (const args of [
      ['dry-run', file, '--cell', 'preview'],
      ['run', file, '--cell', 'full', '--execute'],
      ['run', file, '--cell', 'check'],
    ]) {
      const result = await runCli([...args, '--var', `PGPW=${PASSWORD}`]);
      printed.push({ what: args.join(' '), result });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(
        result.stderr + result.stdout,
        /url: the connection URL's password does not come from a secret/,
      );
    }
    printed.push({ what: 'report', result: await runCli(['report', file]) });
    assert.deepEqual(leaks(printed), []);
    const untouched = await pg.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orders WHERE total IS NOT NULL',
    );
    assert.equal(untouched[0]!.n, 0);
  });

  for (const [what, wrongUrl, said] of [
    [
      'a wrong database name',
      (port: number) => `postgresql://backfill:${PASSWORD}@127.0.0.1:${port}/nodb`,
      /database "nodb" does not exist/,
    ],
    [
      'a wrong password',
      (port: number) => `postgresql://backfill:${WRONG}@127.0.0.1:${port}/postgres`,
      /password authentication failed/,
    ],
    [
      'a refused connection',
      () => `postgresql://backfill:${PASSWORD}@127.0.0.1:1/postgres`,
      /is the database running/,
    ],
    [
      'a malformed URL',
      () => `postgresql://backfill:${PASSWORD}@127.0.0.1:99999/postgres`,
      /the connection URL is not a valid URL/,
    ],
  ] as const) {
    it(`is not shown in the error, the ledger or any file for ${what}, exit 2`, async () => {
      const file = writeSqlRunbook(work.dir, { extraCells: VERIFY });
      const env = { DB_URL: wrongUrl(pg.port) };
      const printed: { what: string; result: CliResult }[] = [];
      for (const args of [
        ['dry-run', file, '--cell', 'preview'],
        ['run', file, '--cell', 'full', '--execute'],
        ['run', file, '--cell', 'check'],
      ]) {
        const result = await runCli(args, { env });
        printed.push({ what: args.join(' '), result });
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
        assert.match(result.stderr + result.stdout, said);
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      }
      printed.push({ what: 'status', result: await runCli(['status', file, '--json'], { env }) });
      assert.deepEqual(leaks(printed), []);
      const untouched = await pg.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM orders WHERE total IS NOT NULL',
      );
      assert.equal(untouched[0]!.n, 0);
    });
  }
});
