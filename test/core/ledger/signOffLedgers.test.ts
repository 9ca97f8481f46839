import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRunbook, type Runbook } from '../../../src/core/format/runbook';
import { resolveEnvironment } from '../../../src/core/job/environment';
import { openLedger } from '../../../src/core/ledger/openLedger';
import { recordedSignOffs, recordSignOffEverywhere } from '../../../src/core/ledger/signOffLedgers';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';
import { usePostgresLedger, writeFixtureRunbook } from '../../support/runbookFixture';

const SIGN_OFF = {
  checklist: 'sign-off',
  item: 'owner-approves',
  by: 'Grace',
  at: '2026-12-06T17:30:00.000Z',
  checked: true,
};

/**
 * The one function `backfill sign` and the editor record a sign-off with: beside the runbook, and in the
 * PostgreSQL ledger of each production environment, where a production run on another host looks.
 */
describe('recording a sign-off everywhere a production run looks', function () {
  this.timeout(120_000);
  let database: PostgresServer;
  let dir: string;

  before(async function () {
    if (postgresUnavailable()) this.skip();
    database = await startPostgres({ password: 'signoff-CANARY-4k2d9' });
  });
  after(async () => database?.stop());
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-signoffs-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function sharedRunbook(): Runbook {
    const file = writeFixtureRunbook(dir, { records: 3, production: true, requiredItem: 'unchecked' });
    usePostgresLedger(file);
    const parsed = parseRunbook(fs.readFileSync(file, 'utf8'), file);
    assert.ok(parsed.runbook, JSON.stringify(parsed.issues));
    return parsed.runbook;
  }

  async function local(runbook: Runbook) {
    const ledger = await openLedger(runbook.file);
    try {
      return await ledger.signOffs();
    } finally {
      await ledger.close();
    }
  }

  it("records it beside the runbook and in the production environment's PostgreSQL ledger, with the secrets given", async () => {
    const runbook = sharedRunbook();
    const asked: string[] = [];
    const warnings = await recordSignOffEverywhere(runbook, SIGN_OFF, (environment) => {
      asked.push(environment);
      return { LEDGER_URL: database.url };
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(asked, ['prod'], "the production environment's secrets are asked for by its name");
    const stored = await database.query<{ checklist: string; item: string; signed_by: string; at: string }>(
      "SELECT checklist, item, signed_by, at FROM backfill.signoffs WHERE ledger = 'fixture-job'",
    );
    assert.deepEqual(
      stored.map((row) => [row.checklist, row.item, row.signed_by, new Date(row.at).toISOString()]),
      [['sign-off', 'owner-approves', 'Grace', SIGN_OFF.at]],
    );
    assert.deepEqual(
      (await local(runbook)).map((s) => [s.item, s.by, s.at, s.checked]),
      [['owner-approves', 'Grace', SIGN_OFF.at, true]],
    );

    // A production run on another host (nothing beside the runbook) finds it in its own ledger.
    fs.rmSync(`${runbook.file}.d`, { recursive: true, force: true });
    const prod = resolveEnvironment(runbook.header, 'prod');
    const shared = await openLedger(runbook.file, {
      type: 'postgres',
      url: database.url,
      name: runbook.header.name,
    });
    try {
      const found = await recordedSignOffs(runbook, prod, shared, () => ({ LEDGER_URL: database.url }));
      assert.deepEqual(
        found.map((s) => [s.item, s.by, s.at]),
        [['owner-approves', 'Grace', SIGN_OFF.at]],
      );
    } finally {
      await shared.close();
    }
  });

  it('without the database secret, still records it beside the runbook and says where it is missing', async () => {
    const runbook = sharedRunbook();
    const warnings = await recordSignOffEverywhere(runbook, SIGN_OFF, () => ({}));
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^the sign-off is in the runbook but not in the ledger of environment prod: .*LEDGER_URL/,
    );
    assert.equal((await local(runbook)).length, 1);
  });
});
