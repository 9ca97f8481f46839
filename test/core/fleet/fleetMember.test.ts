import { strict as assert } from 'node:assert';
import { sendFleetControl } from '../../../src/core/fleet/fleetControls';
import { openFleetDatabase, type FleetDatabase } from '../../../src/core/fleet/fleetDatabase';
import { FleetMember, type FleetView } from '../../../src/core/fleet/fleetMember';
import { fleetMembers } from '../../../src/core/fleet/fleetMembers';
import { waitFor } from '../../support/cliProcess';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';

/** A member that notes what it is told. */
async function join(place: { url: string; name: string }, fresh = false) {
  const views: FleetView[] = [];
  let slowdowns = 0;
  const member = await FleetMember.join({
    place,
    run: 'run-1',
    fresh,
    figures: () => ({ rate: 12.5, sent: 40 }),
    onView: (view) => views.push(view),
    onSlowdown: () => (slowdowns += 1),
  });
  return {
    member,
    views,
    last: () => views[views.length - 1]!,
    slowdowns: () => slowdowns,
  };
}

describe('fleet members in PostgreSQL', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let places = 0;
  let place: { url: string; name: string };
  let db: FleetDatabase;
  const joined: FleetMember[] = [];

  before(async function () {
    if (postgresUnavailable()) this.skip();
    server = await startPostgres();
  });
  beforeEach(async () => {
    places += 1;
    place = { url: server.url, name: `fleet-${places}` };
    db = await openFleetDatabase(place);
  });
  afterEach(async () => {
    for (const member of joined.splice(0)) await member.leave('stopped');
    await db?.client.end();
  });
  after(async () => server?.stop());

  it('sees members join and leave, and re-tells the live members each time', async () => {
    const a = await join(place, true);
    joined.push(a.member);
    assert.deepEqual(a.last().members, [a.member.id]);
    const b = await join(place);
    joined.push(b.member);
    await waitFor(() => a.last().members.length === 2, 'the first member to see the second', 5000);
    assert.deepEqual(b.last().members, [...a.last().members]);

    // The chunk a member holds is in its next heartbeat, for status to show.
    b.member.setChunk(7);
    const deadline = Date.now() + 5000;
    let chunk: number | undefined;
    while (chunk !== 7 && Date.now() < deadline) {
      chunk = (await fleetMembers(db, 'run-1')).find((row) => row.id === b.member.id)?.chunk;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(chunk, 7);
    await b.member.leave('done');
    await waitFor(() => a.last().members.length === 1, 'the first member to see the second leave', 5000);
    const rows = await fleetMembers(db, 'run-1');
    const left = rows.find((row) => row.id === b.member.id)!;
    assert.deepEqual([left.state, left.health, left.sent], ['done', 'ended', 40]);
    const live = rows.find((row) => row.id === a.member.id)!;
    assert.deepEqual([live.state, live.health, live.rate, live.pid], ['working', 'alive', 12.5, process.pid]);
  });

  it('tells the members at once, not at their next heartbeat, when a member joins, waits, works again or ends', async () => {
    const a = await join(place, true);
    joined.push(a.member);
    // With its timer stopped, the first member can learn of the second only by being told.
    clearInterval((a.member as unknown as { timer: NodeJS.Timeout }).timer);
    const b = await join(place);
    await waitFor(() => a.last().members.length === 2, 'the first member to be told of the second', 5000);
    // A member waiting for another's lease with nothing to claim takes no share while it waits.
    b.member.setWaiting(true);
    await waitFor(() => a.last().members.length === 1, 'the first member to be told the second waits', 5000);
    assert.equal((await fleetMembers(db, 'run-1')).find((row) => row.id === b.member.id)?.waiting, true);
    b.member.setWaiting(false);
    await waitFor(() => a.last().members.length === 2, 'the first member to be told the second works', 5000);
    await b.member.leave('done');
    await waitFor(() => a.last().members.length === 1, 'the first member to be told the second ended', 5000);
  });

  it('tells every member of a command sent to the fleet, and a fresh run starts from clean controls', async () => {
    const a = await join(place, true);
    const b = await join(place);
    joined.push(a.member, b.member);
    await sendFleetControl(db, { command: 'rate', value: 300 });
    await sendFleetControl(db, { command: 'pause' });
    for (const member of [a, b]) {
      await waitFor(() => member.last().controls.paused && member.last().controls.rate === 300, 'the pause');
    }
    const c = await join(place, true);
    joined.push(c.member);
    assert.deepEqual(
      [c.last().controls.paused, c.last().controls.stop, c.last().controls.rate],
      [false, false, undefined],
    );
    await waitFor(() => !a.last().controls.paused, 'the reset to reach the other members');
  });

  it('reconnects when its connection is cut, and follows the fleet again', async () => {
    const a = await join(place, true);
    joined.push(a.member);
    await db.client.end();
    await server.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()',
    );
    db = await openFleetDatabase(place);
    await sendFleetControl(db, { command: 'pause' });
    await waitFor(() => a.last().controls.paused, 'the pause to reach the reconnected member', 10_000);
    const [row] = await fleetMembers(db, 'run-1');
    assert.equal(row?.health, 'alive');
  });

  it('slows every other member down when one sees an overload, once per announcement', async () => {
    const a = await join(place, true);
    const b = await join(place);
    const c = await join(place);
    joined.push(a.member, b.member, c.member);
    a.member.reportOverload();
    await waitFor(() => b.slowdowns() === 1 && c.slowdowns() === 1, 'the others to slow down', 5000);
    // A member does not slow down twice for its own announcement, nor again for one it followed.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual([a.slowdowns(), b.slowdowns(), c.slowdowns()], [0, 1, 1]);
  });
});
