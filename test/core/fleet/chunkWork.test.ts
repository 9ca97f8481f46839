import { strict as assert } from 'node:assert';
import type { ChunkLeases, ClaimedChunk } from '../../../src/core/fleet/chunkLeases';
import { ChunkWork } from '../../../src/core/fleet/chunkWork';
import type { SourceItem } from '../../../src/core/model/types';

/** Chunks handed out in a fixed order, as a database of other workers' claims would. */
function scriptedLeases(order: ClaimedChunk[], finished: Record<number, string[]> = {}) {
  const marked: number[] = [];
  const released: number[][] = [];
  const leases = {
    claim: () => Promise.resolve(order.shift()),
    remaining: () =>
      Promise.resolve({ open: 0, heldElsewhere: 0, soonestExpiryMs: undefined, runOutcome: 'running' }),
    finishedKeys: (_chain: string, chunk: ClaimedChunk) => Promise.resolve(finished[chunk.n] ?? []),
    markDone: (n: number) => {
      marked.push(n);
      return Promise.resolve(false);
    },
    release: (chunks: number[]) => {
      released.push(chunks);
      return Promise.resolve();
    },
    renew: () => Promise.resolve({ renewed: new Set<number>(), runOutcome: 'running' }),
  };
  return { leases: leases as unknown as ChunkLeases, marked, released };
}

const chunk = (n: number, firstLine: number, lastLine: number, claims = 1): ClaimedChunk => ({
  n,
  firstLine,
  lastLine,
  claims,
});

describe("a worker's chunks", () => {
  const items = (): AsyncIterable<SourceItem> =>
    (async function* () {
      for (let line = 1; line <= 40; line += 1) yield { kind: 'record', line, fields: { line } };
    })();

  function work(leases: ChunkLeases, doneKeys = new Set<string>(), leaseSeconds = 30) {
    const stop = new AbortController();
    const failures: unknown[] = [];
    const waiting: boolean[] = [];
    const chunkWork = new ChunkWork(
      leases,
      {
        chain: 'chain-1',
        doneKeys,
        flush: () => Promise.resolve(),
        stopped: stop.signal,
        onRunEnded: () => undefined,
        onFailure: (error) => failures.push(error),
        onWaiting: (now) => waiting.push(now),
      },
      leaseSeconds,
    );
    return { chunkWork, failures, waiting };
  }

  it('reads only the lines of the chunks it claims, and reads the source again for one behind it', async () => {
    const { leases, marked } = scriptedLeases([chunk(1, 11, 20), chunk(3, 31, 40), chunk(0, 0, 10, 2)]);
    const { chunkWork, failures } = work(leases);
    const read: number[] = [];
    let opened = 0;
    for await (const item of chunkWork.items(() => {
      opened += 1;
      return items();
    })) {
      read.push(item.line);
    }
    await chunkWork.settled();
    await chunkWork.leave();
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    assert.deepEqual(read, [...range(11, 20), ...range(31, 40), ...range(1, 10)]);
    assert.equal(opened, 2);
    // No unit was prepared, so each chunk is done once the read passed it.
    assert.deepEqual(marked, [1, 3, 0]);
    assert.deepEqual(chunkWork.tally, { claimed: 3, takenOver: 1, done: 3 });
    assert.deepEqual(failures, []);
  });

  it('marks a chunk done only once every unit it prepared has an outcome, and adds its finished keys', async () => {
    const { leases, marked, released } = scriptedLeases([chunk(0, 0, 20)], { 0: ['k3'] });
    const doneKeys = new Set<string>();
    const { chunkWork } = work(leases, doneKeys);
    const strategy = chunkWork.counting({
      batchSize: 1,
      prepare: (record: { key: string; line: number }) => ({ ok: true as const, value: record }),
    });
    for await (const item of chunkWork.items(items)) {
      if (item.line <= 2) strategy.prepare({ key: `k${item.line}`, line: item.line, fields: {} }, '');
    }
    assert.ok(doneKeys.has('k3'));
    await chunkWork.settled();
    assert.deepEqual(marked, [], 'two units still without an outcome');
    chunkWork.recorded(1);
    await chunkWork.settled();
    assert.deepEqual(marked, []);
    chunkWork.recorded(2);
    await chunkWork.settled();
    assert.deepEqual(marked, [0]);
    await chunkWork.leave();
    assert.deepEqual(released, [[]]);
  });

  it('gives back a chunk whose units never all got an outcome (a stop)', async () => {
    const { leases, marked, released } = scriptedLeases([chunk(0, 0, 20)]);
    const { chunkWork } = work(leases);
    const strategy = chunkWork.counting({
      batchSize: 1,
      prepare: (record: { key: string; line: number }) => ({ ok: true as const, value: record }),
    });
    for await (const item of chunkWork.items(items)) {
      if (item.line === 5) strategy.prepare({ key: 'k5', line: 5, fields: {} }, '');
    }
    await chunkWork.leave();
    assert.deepEqual(marked, []);
    assert.deepEqual(released, [[0]]);
  });

  it('stops feeding a chunk whose lease was lost, and leaves marking it done to its new holder', async () => {
    const { leases, marked, released } = scriptedLeases([chunk(0, 0, 40)]);
    const { chunkWork } = work(leases, new Set(), 0.6); // renewals every 200 ms, none of them renewing
    const read: number[] = [];
    for await (const item of chunkWork.items(items)) {
      read.push(item.line);
      if (item.line === 5) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await chunkWork.settled();
    await chunkWork.leave();
    assert.deepEqual(read, [1, 2, 3, 4, 5]);
    assert.deepEqual(marked, []);
    assert.deepEqual(released, [[]]);
  });

  it("says it waits while only another worker's lease stands between it and a chunk, and works again once it claims one", async () => {
    const order: (ClaimedChunk | undefined)[] = [chunk(0, 0, 10), undefined, undefined, chunk(2, 21, 30, 2)];
    let leased = 2;
    const leases = {
      ...scriptedLeases([]).leases,
      claim: () => Promise.resolve(order.shift()),
      remaining: () =>
        Promise.resolve({ open: 1, heldElsewhere: leased--, soonestExpiryMs: 0, runOutcome: 'running' }),
      finishedKeys: () => Promise.resolve([]),
      markDone: () => Promise.resolve(false),
    } as unknown as ChunkLeases;
    const { chunkWork, waiting } = work(leases);
    const strategy = chunkWork.counting({
      batchSize: 1,
      prepare: (record: { key: string; line: number }) => ({ ok: true as const, value: record }),
    });
    const read: number[] = [];
    for await (const item of chunkWork.items(items)) {
      read.push(item.line);
      strategy.prepare({ key: `k${item.line}`, line: item.line, fields: {} }, '');
    }
    await chunkWork.leave();
    assert.deepEqual(read, [
      ...Array.from({ length: 10 }, (_, i) => i + 1),
      ...Array.from({ length: 10 }, (_, i) => i + 21),
    ]);
    // Waiting from the start until its first unit (it takes no share while it starts), then waiting for
    // the lease, working again, and waiting at the end while the other worker finishes.
    assert.deepEqual(waiting, [false, true, false, true]);
  });

  it('takes no share from claiming its first chunk until it hands the dispatcher its first unit', async () => {
    const { leases } = scriptedLeases([chunk(0, 1, 10)]);
    const { chunkWork, waiting } = work(leases);
    const strategy = chunkWork.counting({
      batchSize: 1,
      prepare: (record: { key: string; line: number }) => ({ ok: true as const, value: record }),
    });
    const seen: boolean[][] = [];
    for await (const item of chunkWork.items(items)) {
      // Claimed, its finished keys read and the source opened: still nothing to send, still no share.
      seen.push([...waiting]);
      strategy.prepare({ key: `k${item.line}`, line: item.line, fields: {} }, '');
    }
    await chunkWork.leave();
    assert.deepEqual(seen[0], []);
    assert.deepEqual(seen[1], [false]);
    assert.deepEqual(waiting, [false]);
  });

  it('claims the next chunk while it feeds the last lines of the current one, so the feed does not wait for a claim', async () => {
    const log: (string | number)[] = [];
    const { leases } = scriptedLeases([chunk(0, 1, 10), chunk(1, 11, 20)]);
    const claim = leases.claim.bind(leases);
    leases.claim = (...args) => {
      log.push('claim');
      return claim(...args);
    };
    const { chunkWork } = work(leases);
    for await (const item of chunkWork.items(items)) log.push(item.line);
    await chunkWork.leave();
    // The second claim went out before line 10, the last of chunk 0, was fed — and not before its last
    // tenth, so a worker does not hold a second chunk another could be working on.
    assert.ok(log.indexOf('claim', 1) < log.indexOf(10), JSON.stringify(log));
    assert.ok(log.indexOf('claim', 1) > log.indexOf(9), JSON.stringify(log));
    assert.deepEqual(
      log.filter((entry) => entry !== 'claim'),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('gives up its share as soon as its last chunk is fed whole, before the units in flight have outcomes', async () => {
    let elsewhere = 1;
    const { leases, marked } = scriptedLeases([chunk(0, 1, 10)]);
    leases.remaining = () =>
      Promise.resolve({ open: 2, heldElsewhere: elsewhere--, soonestExpiryMs: 0, runOutcome: 'running' });
    const { chunkWork, waiting } = work(leases);
    const strategy = chunkWork.counting({
      batchSize: 1,
      prepare: (record: { key: string; line: number }) => ({ ok: true as const, value: record }),
    });
    for await (const item of chunkWork.items(items)) {
      strategy.prepare({ key: `k${item.line}`, line: item.line, fields: {} }, '');
    }
    // Ten units fed and none recorded: the chunk is not done, yet the worker waits (takes no share).
    assert.deepEqual(waiting, [false, true]);
    assert.deepEqual(marked, []);
    for (let line = 1; line <= 10; line += 1) chunkWork.recorded(line);
    await chunkWork.settled();
    assert.deepEqual(marked, [0]);
    await chunkWork.leave();
  });
});
