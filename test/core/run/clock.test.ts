import { strict as assert } from 'node:assert';
import { ManualClock, realClock } from '../../../src/core/run/clock';

describe('ManualClock', () => {
  it('fires timers in due order and sets now() to each due time', async () => {
    const clock = new ManualClock(100);
    const fired: string[] = [];
    const note = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    const all = [
      clock.sleep(30).then(note('c')),
      clock.sleep(10).then(note('a')),
      clock.sleep(30).then(note('d')),
      clock.sleep(20).then(note('b')),
    ];
    await clock.advance(25);
    assert.deepEqual(fired, ['a@110', 'b@120']);
    assert.equal(clock.now(), 125);
    await clock.advance(100);
    await Promise.all(all);
    assert.deepEqual(fired, ['a@110', 'b@120', 'c@130', 'd@130']);
    assert.equal(clock.now(), 225);
  });

  it('fires timers set by continuations during the same advance', async () => {
    const clock = new ManualClock();
    const ticks: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 5; i += 1) {
        await clock.sleep(100);
        ticks.push(clock.now());
      }
    })();
    await clock.advance(1000);
    await loop;
    assert.deepEqual(ticks, [100, 200, 300, 400, 500]);
  });

  it('rejects an aborted sleep with the reason and forgets its timer', async () => {
    const clock = new ManualClock();
    const abort = new AbortController();
    const sleeping = clock.sleep(1000, abort.signal);
    assert.equal(clock.pendingTimers, 1);
    abort.abort(new Error('stop'));
    await assert.rejects(sleeping, /stop/);
    assert.equal(clock.pendingTimers, 0);
    await assert.rejects(clock.sleep(10, AbortSignal.abort()), { name: 'AbortError' });
  });

  it('treats a negative sleep as zero', async () => {
    const clock = new ManualClock(50);
    let woke = false;
    const sleeping = clock.sleep(-10).then(() => (woke = true));
    await clock.advance(0);
    await sleeping;
    assert.equal(woke, true);
    assert.equal(clock.now(), 50);
  });
});

describe('realClock', () => {
  // No assertion here depends on how long anything takes: only on what resolves or rejects.
  it('resolves a sleep', async () => {
    await realClock.sleep(1);
  });

  it('rejects a sleep with the abort reason', async () => {
    const abort = new AbortController();
    const sleeping = realClock.sleep(60_000, abort.signal);
    abort.abort(new Error('stop'));
    await assert.rejects(sleeping, /stop/);
    await assert.rejects(realClock.sleep(60_000, AbortSignal.abort()), { name: 'AbortError' });
  });
});
