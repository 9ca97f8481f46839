import { strict as assert } from 'node:assert';
import { SourceSchema } from '../../../../src/core/format/schemas';
import { sourceKindOf } from '../../../../src/core/sources/sourceKinds';
import { SourcePin } from '../../../../src/core/sources/sourcePin';
import { SecretResolver } from '../../../../src/core/secrets/secrets';
import { UserError } from '../../../../src/core/model/types';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../../support/postgresServer.mjs';

describe('postgres source: the data is pinned between the check before a run and its sending pass', function () {
  this.timeout(60_000);
  let pg: PostgresServer;

  before(async function () {
    if (postgresUnavailable()) this.skip();
    pg = await startPostgres();
  });
  after(() => pg?.stop());
  beforeEach(async () => {
    await pg.query('DROP TABLE IF EXISTS pinned');
    await pg.query('CREATE TABLE pinned (id int PRIMARY KEY, amount int)');
    await pg.query('INSERT INTO pinned SELECT i, i * 10 FROM generate_series(1, 10) i');
  });

  function kindAndOptions(fingerprint: 'rows' | 'query' = 'rows') {
    const spec = SourceSchema.parse({
      type: 'postgres',
      url: '${secret:DB_URL}',
      key: 'id',
      query: 'SELECT id, amount FROM pinned',
      pageSize: 3,
      fingerprint,
    });
    const pin = new SourcePin();
    const options = {
      baseDir: '/',
      connection: { env: {}, secrets: new SecretResolver({ DB_URL: pg.url }) },
      location: { file: 'orders.backfill', cell: 'fix', line: 12 },
      pin,
    };
    return { kind: sourceKindOf(spec), spec, options, pin };
  }

  /** The sending pass: the keys it yields until it ends or refuses, and the refusal located at the cell. */
  async function sendingPass(setup: ReturnType<typeof kindAndOptions>) {
    const ids: unknown[] = [];
    try {
      for await (const item of setup.kind.open(setup.spec, { ...setup.options, snapshot: false })) {
        if (item.kind === 'record') ids.push(item.fields.id);
      }
      return { ids };
    } catch (error) {
      assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
      const issue = error.issues[0]!;
      return {
        ids,
        refusal: `${issue.file}:${issue.line}: cell ${issue.cell}: ${issue.field}: ${issue.message}`,
      };
    }
  }

  it('reads every row when nothing changed since the check', async () => {
    const setup = kindAndOptions();
    await setup.kind.contentHash(setup.spec, setup.options);
    assert.equal(setup.pin.pages?.length, 4);
    assert.deepEqual(await sendingPass(setup), { ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
  });

  it('stops before the page where a row changed, and names its keys', async () => {
    const setup = kindAndOptions();
    await setup.kind.contentHash(setup.spec, setup.options);
    await pg.query('UPDATE pinned SET amount = -1 WHERE id = 8');
    const { ids, refusal } = await sendingPass(setup);
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6]);
    assert.match(
      refusal ?? '',
      /^orders\.backfill:12: cell fix: source: the source data changed while the run was reading it: the rows with keys after 6 up to 9 are not the 3 rows it read there since the check at \d{4}-/,
    );
  });

  it('stops at a row added before the end and at rows deleted at the end', async () => {
    const added = kindAndOptions();
    await added.kind.contentHash(added.spec, added.options);
    await pg.query('INSERT INTO pinned VALUES (0, 0)');
    const first = await sendingPass(added);
    assert.deepEqual(first.ids, []);
    assert.match(
      first.refusal ?? '',
      /the rows with keys from the first up to 3 \(now 2\) are not the 3 rows/,
    );

    const deleted = kindAndOptions();
    await deleted.kind.contentHash(deleted.spec, deleted.options);
    // Pages are now 0–2, 3–5, 6–8, 9–10: the last one goes.
    await pg.query('DELETE FROM pinned WHERE id >= 9');
    const second = await sendingPass(deleted);
    assert.deepEqual(second.ids, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.match(second.refusal ?? '', /the 2 rows with keys after 8 up to 10 are gone/);
  });

  it('pins nothing with fingerprint: query, which is for tables that change all the time', async () => {
    const setup = kindAndOptions('query');
    await setup.kind.contentHash(setup.spec, setup.options);
    assert.equal(setup.pin.pages, undefined);
    await pg.query('UPDATE pinned SET amount = -1 WHERE id = 8');
    assert.deepEqual((await sendingPass(setup)).ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('does not pin in a dry run, which reads in its own snapshot', async () => {
    const setup = kindAndOptions();
    for await (const item of setup.kind.open(setup.spec, setup.options)) void item;
    assert.equal(setup.pin.pages, undefined);
  });
});
