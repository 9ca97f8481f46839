import { strict as assert } from 'node:assert';
import { ManualClock, type Clock } from '../../../src/core/run/clock';
import { PermitReserve } from '../../../src/core/run/permitReserve';
import { RateLimiter } from '../../../src/core/run/rateLimiter';

/** A clock whose timers fire no sooner than a millisecond later, as real timers do. */
function coarseClock(): { clock: Clock; inner: ManualClock } {
  const inner = new ManualClock();
  const clock: Clock = {
    now: () => inner.now(),
    sleep: (ms, signal) => inner.sleep(Math.max(1, Math.ceil(ms)), signal),
  };
  return { clock, inner };
}

/** One caller taking one permit at a time, each right after the last, as the runner's dispatch loop does. */
async function sequentialGrants(
  take: () => Promise<void>,
  clock: Clock,
  stop: AbortSignal,
): Promise<number[]> {
  const grants: number[] = [];
  try {
    for (;;) {
      await take();
      if (stop.aborted) break;
      grants.push(clock.now());
    }
  } catch {
    // stopped
  }
  return grants;
}

/** A limiter that notes the permit count of every acquire. */
class CountingLimiter extends RateLimiter {
  readonly counts: number[] = [];

  override acquire(count = 1, signal?: AbortSignal): Promise<void> {
    this.counts.push(count);
    return super.acquire(count, signal);
  }
}

describe('PermitReserve', () => {
  it('gives a one-at-a-time caller the configured 20,000 a second although timers fire a millisecond late', async () => {
    const { clock, inner } = coarseClock();
    const limiter = new RateLimiter(20_000, clock);
    const reserve = new PermitReserve(limiter);
    const stop = new AbortController();
    const granted = sequentialGrants(() => reserve.take(1, stop.signal), clock, stop.signal);
    await inner.advance(1000);
    stop.abort();
    const grants = await granted;
    // The rate, the 2 ms taken ahead and the 5 ms the limiter may lag the clock by from the first acquire.
    assert.ok(grants.length >= 19_800 && grants.length <= 20_141, `${grants.length} grants in one second`);
  });

  it('calls the limiter about once per 2 ms at 20,000 a second, not once per permit', async () => {
    const { clock, inner } = coarseClock();
    const limiter = new CountingLimiter(20_000, clock);
    const reserve = new PermitReserve(limiter);
    const stop = new AbortController();
    const granted = sequentialGrants(() => reserve.take(1, stop.signal), clock, stop.signal);
    await inner.advance(1000);
    stop.abort();
    assert.ok((await granted).length >= 19_800);
    // 40 permits (2 ms) per acquire.
    assert.ok(limiter.counts.length <= 510, `${limiter.counts.length} acquires`);
  });

  it('never hands out a permit before its slot', async () => {
    const { clock, inner } = coarseClock();
    const limiter = new RateLimiter(20_000, clock);
    const reserve = new PermitReserve(limiter);
    const stop = new AbortController();
    const granted = sequentialGrants(() => reserve.take(1, stop.signal), clock, stop.signal);
    await inner.advance(500);
    stop.abort();
    // Slots are 0.05 ms apart from 5 ms before the first acquire (the limiter's schedule may lag the
    // clock by that much): the n-th permit (from 0) is due at n * 0.05 - 5 ms.
    (await granted).forEach((at, n) => assert.ok(at >= n * 0.05 - 5 - 1e-9, `permit ${n} at ${at} ms`));
  });

  it('asks for exactly what it is asked for at ordinary rates', async () => {
    const clock = new ManualClock();
    const limiter = new CountingLimiter(10, clock);
    const reserve = new PermitReserve(limiter);
    const taking = (async () => {
      for (const count of [1, 1, 3, 1]) await reserve.take(count);
    })();
    await clock.advance(1000);
    await taking;
    assert.deepEqual(limiter.counts, [1, 1, 3, 1]);
  });

  it('forgets held permits when cleared, so none outlives a pause', async () => {
    const clock = new ManualClock();
    const limiter = new CountingLimiter(10_000, clock);
    const reserve = new PermitReserve(limiter);
    await reserve.take(1);
    assert.deepEqual(limiter.counts, [20], 'takes 2 ms ahead');
    await reserve.take(1);
    assert.equal(limiter.counts.length, 1, 'hands out a held permit without asking');
    reserve.clear();
    await clock.advance(60_000);
    await reserve.take(1);
    assert.equal(limiter.counts.length, 2, 'a cleared reserve asks the limiter again');
  });
  it('grants permits at a rate so large that two milliseconds of it overflow to Infinity', async () => {
    for (const rate of [1e308, Number.POSITIVE_INFINITY]) {
      const clock = new ManualClock();
      const limiter = new CountingLimiter(rate, clock);
      const reserve = new PermitReserve(limiter);
      await reserve.take(1);
      await reserve.take(5);
      assert.ok(
        limiter.counts.every((count) => Number.isInteger(count) && count <= 10_000),
        `asked for ${limiter.counts.join(', ')} at ${rate}`,
      );
    }
  });

  it('hands out without waiting only permits already in hand, and never more than it holds', async () => {
    const clock = new ManualClock();
    const limiter = new CountingLimiter(10_000, clock);
    const reserve = new PermitReserve(limiter);
    assert.equal(reserve.tryTake(1), false, 'nothing in hand before the first take');
    assert.deepEqual(limiter.counts, [], 'tryTake never asks the limiter');
    await reserve.take(1); // takes 20, hands out 1: 19 in hand
    let taken = 0;
    while (reserve.tryTake(1)) taken += 1;
    assert.equal(taken, 19);
    assert.equal(reserve.tryTake(1), false);
    await reserve.take(3); // asks again: 20, hands out 3: 17 in hand
    assert.equal(reserve.tryTake(18), false, 'a larger request takes none');
    assert.equal(reserve.tryTake(17), true);
    assert.equal(limiter.counts.length, 2);
  });
});
