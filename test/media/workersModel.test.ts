import { strict as assert } from 'node:assert';
import { WORKERS_SHOWN, workersModel } from '../../media/renderer/workersModel';
import type { FleetPayload } from '../../media/renderer/payloads';
import { fleetMember as member, fleetPayload as fleet, HOSTILE_VALUE, STARTED } from './payloadFixtures';

const NOW = new Date(STARTED + 120_000);

describe('renderer workers model', () => {
  it('lists each worker with its host, pid, chunk, rate, records sent, last heartbeat and health', () => {
    const model = workersModel(fleet([member()]), NOW);
    assert.equal(model.heading, 'Workers — 1 alive, 0 lost, 0 ended');
    assert.equal(model.rows.length, 1);
    const [row] = model.rows;
    assert.equal(row!.host, 'worker-1');
    assert.equal(row!.pid, '4242');
    assert.equal(row!.chunk, '7');
    assert.equal(row!.rate, '20/s');
    assert.equal(row!.sent, '1,234');
    assert.match(row!.heartbeat, /^\d\d:\d\d:\d\d \(0\.4 s ago\)$/);
    assert.equal(row!.health, 'alive');
    assert.equal(row!.tone, 'success');
  });

  it('puts the live workers first, then the lost ones in red, then those that ended', () => {
    const model = workersModel(
      fleet([
        member({ id: 'e', host: 'h-ended', state: 'stopped', health: 'ended', chunk: undefined }),
        member({ id: 'l', host: 'h-lost', health: 'lost', silentMs: 12_300 }),
        member({ id: 'a', host: 'h-alive' }),
      ]),
      NOW,
    );
    assert.deepEqual(
      model.rows.map((row) => [row.host, row.health, row.tone, row.rate, row.chunk]),
      [
        ['h-alive', 'alive', 'success', '20/s', '7'],
        ['h-lost', 'LOST: no heartbeat', 'danger', '–', '7'],
        ['h-ended', 'stopped', 'neutral', '–', '–'],
      ],
    );
    assert.equal(model.heading, 'Workers — 1 alive, 1 lost, 1 ended');
    assert.match(model.rows[1]!.heartbeat, /\(12\.3 s ago\)/);
  });

  it('says a worker waits for a lease when it has no chunk to work on', () => {
    const model = workersModel(fleet([member({ id: 'w', chunk: undefined, waiting: true })]), NOW);
    assert.equal(model.rows[0]!.chunk, 'waiting');
  });

  it('says a worker waits while the last units of the chunk it still holds are in flight', () => {
    const model = workersModel(fleet([member({ id: 'w', chunk: 12, waiting: true })]), NOW);
    assert.equal(model.rows[0]!.chunk, '12 · waiting');
  });

  it('says how the fleet is steered in its heading', () => {
    const model = workersModel(fleet([member()], { paused: true, rate: 100, stop: true }), NOW);
    assert.equal(model.heading, 'Workers — 1 alive, 0 lost, 0 ended · paused, stop sent, rate 100/s');
  });

  it('has no rows for a local run, so the list stays hidden', () => {
    assert.deepEqual(workersModel(undefined).rows, []);
    assert.deepEqual(workersModel(fleet([])).rows, []);
    assert.deepEqual(workersModel({ members: 'nonsense' } as unknown as FleetPayload).rows, []);
  });

  it('lists the first workers of a large fleet and counts the rest', () => {
    const many = Array.from({ length: WORKERS_SHOWN + 14 }, (_, i) => member({ id: `m${i}`, host: `h${i}` }));
    const model = workersModel(fleet(many), NOW);
    assert.equal(model.rows.length, WORKERS_SHOWN);
    assert.equal(model.more, 14);
  });

  it('keeps a host name that looks like markup as plain text', () => {
    const [row] = workersModel(fleet([member({ host: HOSTILE_VALUE })]), NOW).rows;
    assert.equal(row!.host, HOSTILE_VALUE);
  });
});
