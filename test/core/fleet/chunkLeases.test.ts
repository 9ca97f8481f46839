import { strict as assert } from 'node:assert';
import { ChunkLeases, insertChunks, type ChunkScope } from '../../../src/core/fleet/chunkLeases';
import { PostgresLedger } from '../../../src/core/ledger/postgresLedger';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';
import { run } from '../ledger/helpers';
import { sleep } from '../../support/cliProcess';

describe('chunk leases in a PostgreSQL ledger', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let ledger: PostgresLedger;
  let runs = 0;
  let scope: ChunkScope;
  const open: ChunkLeases[] = [];

  before(async function () {
    if (postgresUnavailable()) this.skip();
    server = await startPostgres();
    ledger = await PostgresLedger.open({ url: server.url, name: 'leases' });
  });
  after(async () => {
    await ledger?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    runs += 1;
    scope = { schema: 'backfill', ledger: 'leases', run: `run-${runs}` };
    await ledger.transaction(async () => {
      await ledger.startRun(run(scope.run));
      await insertChunks(
        ledger,
        scope,
        Array.from({ length: 4 }, (_, n) => ({ n, firstLine: n * 10, lastLine: n * 10 + 9 })),
      );
    });
  });
  afterEach(async () => {
    for (const leases of open.splice(0)) await leases.close();
  });

  async function worker(name: string, leaseSeconds = 30): Promise<ChunkLeases> {
    const leases = await ChunkLeases.connect(server.url, scope, name, leaseSeconds);
    open.push(leases);
    return leases;
  }

  it('gives each chunk to one worker when many claim at once', async () => {
    const workers = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => worker(name)));
    const claims = await Promise.all(workers.map((leases) => leases.claim(0)));
    const claimed = claims.filter((claim) => claim !== undefined).map((claim) => claim.n);
    assert.deepEqual([...claimed].sort(), [0, 1, 2, 3]);
    assert.equal(claims.filter((claim) => claim === undefined).length, 2);
  });

  it('claims the next chunk after the position first, then wraps around', async () => {
    const leases = await worker('a');
    assert.equal((await leases.claim(2))?.n, 2);
    assert.equal((await leases.claim(3))?.n, 3);
    assert.equal((await leases.claim(4))?.n, 0);
  });

  it('lets another worker take over a chunk whose lease ran out, and not one that is renewed', async () => {
    const dead = await worker('dead', 1);
    const alive = await worker('alive', 1);
    const successor = await worker('successor');
    assert.equal((await dead.claim(0))?.n, 0);
    assert.equal((await alive.claim(1))?.n, 1);
    assert.equal((await successor.claim(2))?.n, 2);
    assert.equal((await successor.claim(3))?.n, 3);
    for (let i = 0; i < 4; i += 1) {
      await sleep(400);
      assert.deepEqual([...(await alive.renew([1])).renewed], [1]);
    }
    const takeover = await successor.claim(0);
    assert.equal(takeover?.n, 0);
    assert.equal(takeover?.claims, 2);
    assert.equal(await successor.claim(0), undefined, "the renewed chunk stays its worker's");
    assert.deepEqual([...(await dead.renew([0])).renewed], [], 'the dead worker lost its lease');
  });

  it('tells exactly one of the workers finishing the last chunks at once that it finished the run', async () => {
    const workers = await Promise.all(['a', 'b', 'c', 'd'].map((name) => worker(name)));
    const chunks = await Promise.all(workers.map((leases, i) => leases.claim(i)));
    const last = await Promise.all(workers.map((leases, i) => leases.markDone(chunks[i]!.n)));
    assert.equal(last.filter(Boolean).length, 1);
    assert.equal(await workers[0]!.markDone(chunks[0]!.n), false, 'a chunk marked twice finishes nothing');
  });

  it('gives released chunks back for anyone to claim, and claims nothing once the run ended', async () => {
    const a = await worker('a');
    const b = await worker('b');
    assert.equal((await a.claim(0))?.n, 0);
    await a.release([0]);
    assert.equal((await b.claim(0))?.n, 0);
    assert.equal((await b.remaining()).heldElsewhere, 0);
    assert.equal((await a.remaining()).heldElsewhere, 1);
    await ledger.finishRun(scope.run, 'halted', 'stopped');
    assert.equal(await a.claim(0), undefined);
    assert.equal((await a.remaining()).runOutcome, 'halted');
  });
});
