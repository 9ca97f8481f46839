import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { runCli, tempDir } from '../support/cli';
import { freePort } from '../support/freePort.mjs';
import { bindsNonLocalAddresses } from '../support/listeningSockets';
import { writeFixtureRunbook } from '../support/runbookFixture';
import { startTargetServer, type TargetServer } from '../support/targetServer';

/** Bad command-line values are usage errors (exit 2) caught before anything is sent or recorded. */
describe('backfill usage errors on the command line', function () {
  this.timeout(120_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer;
  let file: string;

  beforeEach(async () => {
    work = tempDir();
    target = await startTargetServer();
    file = writeFixtureRunbook(work.dir, { records: 3 });
  });
  afterEach(async () => {
    await target.stop();
    work.cleanup();
  });

  const run = (...extra: string[]) =>
    runCli(['run', file, '--cell', 'full', '--var', `BASE_URL=${target.url}`, '--execute', ...extra]);

  /** Exit 2 with `message` on stderr, no internal error, nothing sent, and no state folder. */
  function assertRefusedCleanly(result: Awaited<ReturnType<typeof runCli>>, message: RegExp): void {
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /internal error|This is a bug/);
    assert.equal(target.arrivals.length, 0, 'nothing was sent');
    assert.equal(fs.existsSync(`${file}.d`), false, 'a state folder was left behind');
  }

  for (const port of ['abc', '99999', '-1', '1.5', '1e308', '0']) {
    it(`refuses --metrics-port ${port} saying the range`, async () => {
      const result = await run('--metrics-port', port);
      assertRefusedCleanly(
        result,
        new RegExp(
          `--metrics-port ${port.replace('.', '\\.')}: .*between 1 and 65,535 \\(TCP port\\), a whole number`,
        ),
      );
    });
  }

  it('refuses a --metrics-port another program listens on, before the run is recorded', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const result = await run('--metrics-port', `${port}`);
      assertRefusedCleanly(
        result,
        new RegExp(`--metrics-port ${port}: 127\\.0\\.0\\.1:${port} is already in use`),
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  for (const host of ['localhost', '0.0.0.0:9464', '300.1.1.1']) {
    it(`refuses --metrics-host ${host}: not an IP address, saying what to give`, async () => {
      const result = await run('--metrics-host', host, '--metrics-port', '9464');
      assertRefusedCleanly(
        result,
        new RegExp(
          `--metrics-host ${host.replace(/\./g, '\\.')}: not an IP address.*: give an address of this host, 0\\.0\\.0\\.0`,
        ),
      );
    });
  }

  it('refuses --metrics-host without --metrics-port, which would serve nothing', async () => {
    assertRefusedCleanly(
      await run('--metrics-host', '127.0.0.1'),
      /--metrics-host 127\.0\.0\.1: serves metrics only with --metrics-port PORT/,
    );
  });

  it('refuses a --metrics-host this host has no interface for, before the run is recorded', async function () {
    if (bindsNonLocalAddresses()) this.skip();
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never a host's address, so nothing listens there.
    const result = await run('--metrics-host', '192.0.2.1', '--metrics-port', `${await freePort()}`);
    assertRefusedCleanly(
      result,
      /--metrics-host 192\.0\.2\.1: this host has no network interface with the address 192\.0\.2\.1 \(EADDRNOTAVAIL\)/,
    );
  });

  it('refuses a bad --metrics-host on a worker before it reads the runbook or a ledger', async () => {
    const result = await runCli([
      'worker',
      file,
      '--cell',
      'full',
      '--metrics-host',
      'nope',
      '--metrics-port',
      '9464',
    ]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /--metrics-host nope: not an IP address/);
    assert.equal(fs.existsSync(`${file}.d`), false, 'a state folder was left behind');
  });

  it('refuses --events in a folder that does not exist, and --events naming a folder', async () => {
    const missing = path.join(work.dir, 'no', 'such', 'events.jsonl');
    assertRefusedCleanly(
      await run('--events', missing),
      /--events .*events\.jsonl: cannot append to it \(its folder does not exist\)/,
    );
    assertRefusedCleanly(
      await run('--events', work.dir),
      /--events .*: cannot append to it \(it is a folder\)/,
    );
  });

  it('refuses report --out naming a folder, and leaves nothing in it or beside it', async () => {
    const folder = path.join(work.dir, 'reports');
    fs.mkdirSync(folder);
    const result = await runCli(['report', file, '--out', folder]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /--out .*reports: is a folder; name the report's file, e\.g\. --out .*reports\/report\.html/,
    );
    assert.deepEqual(fs.readdirSync(folder), []);
    assert.deepEqual(fs.readdirSync(work.dir).sort(), ['job.backfill', 'records.csv', 'reports']);
  });

  it('refuses a SQL action statementTimeoutMs beyond PostgreSQL 2,147,483,647 ms with a located error', async () => {
    const sql = path.join(work.dir, 'sql.backfill');
    fs.writeFileSync(
      sql,
      '---\ntitle: T\nname: t\nowner: o\n---\n```job id=orders\nsource:\n  type: inline\n  key: id\n' +
        '  records: [{ id: "1" }]\naction:\n  type: sql\n  url: ${secret:DB_URL}\n' +
        '  statement: UPDATE t SET x = 1 WHERE id = :id\n  statementTimeoutMs: 1e15\n```\n',
    );
    const result = await runCli(['check', sql]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.ok(
      result.stderr.includes(
        `${sql}:15: cell orders: action.statementTimeoutMs: 1,000,000,000,000,000 is out of range: must be between 1 and 2,147,483,647 (milliseconds), a whole number`,
      ),
      result.stderr,
    );
  });
});
