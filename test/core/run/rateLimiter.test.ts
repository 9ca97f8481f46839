import { strict as assert } from 'node:assert';
import { ManualClock, type Clock } from '../../../src/core/run/clock';
import { RateLimiter } from '../../../src/core/run/rateLimiter';
import { seededRandom } from '../../../src/core/seededRandom';

/** The largest number of grants in any closed one-second window [t - 1000, t]. */
function maxInOneSecond(grants: number[]): number {
  let max = 0;
  let first = 0;
  for (let last = 0; last < grants.length; last += 1) {
    while (grants[last]! - grants[first]! > 1000) first += 1;
    max = Math.max(max, last - first + 1);
  }
  return max;
}

/** Starts an acquire and notes the clock time when it is granted (or the error it rejects with). */
function track(limiter: RateLimiter, clock: Clock, count = 1, signal?: AbortSignal) {
  const result: { at?: number; error?: unknown } = {};
  const done = limiter.acquire(count, signal).then(
    () => {
      result.at = clock.now();
    },
    (error: unknown) => {
      result.error = error;
    },
  );
  return Object.assign(result, { done });
}

/**
 * Eight workers acquire one permit at a time with random pauses between (often none, sometimes long enough
 * for every worker to be away and the limiter to go idle), for `durationMs` of fake time. Returns the grant
 * times.
 */
async function greedyWorkload(rate: number, durationMs: number, seed: number): Promise<number[]> {
  const clock = new ManualClock(1_000_000);
  const limiter = new RateLimiter(rate, clock);
  const random = seededRandom(seed);
  const stop = new AbortController();
  const grants: number[] = [];
  const interval = 1000 / rate;
  const worker = async (): Promise<void> => {
    try {
      for (;;) {
        await limiter.acquire(1, stop.signal);
        grants.push(clock.now());
        const pick = random();
        if (pick < 0.5) continue;
        const pause = random() * (pick < 0.98 ? 4 : 40) * interval;
        await clock.sleep(pause, stop.signal);
      }
    } catch {
      // stopped
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await clock.advance(durationMs);
  stop.abort();
  await Promise.all(workers);
  return grants;
}

describe('RateLimiter', () => {
  for (const [rate, durationMs] of [
    [0.5, 3_600_000],
    [10, 600_000],
    [100, 120_000],
    [1000, 30_000],
    [5000, 8_000],
  ] as const) {
    it(`never grants more than ceil(rate) + 1 permits in any one-second window at ${rate}/s`, async () => {
      const grants = await greedyWorkload(rate, durationMs, rate * 7 + 1);
      assert.ok(maxInOneSecond(grants) <= Math.ceil(rate) + 1, `max ${maxInOneSecond(grants)}`);
      // The bound must not come from starving the workers: with demand above the rate, throughput is
      // the rate, less what the rare moments when every worker pauses cost.
      const expected = (rate * durationMs) / 1000;
      assert.ok(grants.length >= expected * 0.8 && grants.length <= expected + 1, `${grants.length} grants`);
    });
  }

  it('grants permits in the order they were asked for', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    const order: number[] = [];
    const all = [1, 2, 1, 3, 1].map((count, index) => limiter.acquire(count).then(() => order.push(index)));
    await clock.advance(10_000);
    await Promise.all(all);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });

  it('spaces slots by 1000 / rate and resolves a multi-permit acquire at its last slot', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    const waiters = [1, 3, 1].map((count) => track(limiter, clock, count));
    await clock.advance(1000);
    assert.deepEqual(
      waiters.map((w) => w.at),
      [0, 300, 400],
    );
  });

  it('resolves at once without a timer when the limiter is idle and the slot is due', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    await limiter.acquire();
    await clock.advance(250);
    await limiter.acquire();
    assert.equal(clock.pendingTimers, 0);
    assert.equal(clock.now(), 250);
  });

  it('saves up no permits while idle, so a rush after a pause is still spaced', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    await limiter.acquire();
    await clock.advance(60_000);
    const waiters = Array.from({ length: 5 }, () => track(limiter, clock));
    await clock.advance(1000);
    assert.deepEqual(
      waiters.map((w) => w.at),
      [60_000, 60_100, 60_200, 60_300, 60_400],
    );
  });

  it('applies a lowered rate to the waiters already queued, leaving no burst at the old rate', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    const waiters = Array.from({ length: 6 }, () => track(limiter, clock));
    await clock.advance(250);
    limiter.setRate(2);
    await clock.advance(5000);
    assert.deepEqual(
      waiters.map((w) => w.at),
      [0, 100, 200, 700, 1200, 1700],
    );
  });

  it('speeds up the waiters already queued when the rate is raised', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(1, clock);
    const waiters = Array.from({ length: 4 }, () => track(limiter, clock));
    await clock.advance(500);
    assert.deepEqual(
      waiters.map((w) => w.at),
      [0, undefined, undefined, undefined],
    );
    limiter.setRate(10);
    await clock.advance(1000);
    // The second slot (100 ms after the first) has passed, so it is granted at once; the rest follow it
    // at the new spacing.
    assert.deepEqual(
      waiters.map((w) => w.at),
      [0, 500, 600, 700],
    );
    assert.equal(limiter.rate, 10);
  });

  it('does not make up for a backlog when its timer fires very late', async () => {
    const inner = new ManualClock();
    let lateBy = 0;
    // A clock whose next timer fires `lateBy` ms late, as after an event-loop stall or a suspended laptop.
    const clock: Clock = {
      now: () => inner.now(),
      sleep: (ms, signal) => {
        const late = lateBy;
        lateBy = 0;
        return inner.sleep(ms + late, signal);
      },
    };
    const limiter = new RateLimiter(10, clock);
    await limiter.acquire();
    lateBy = 3000;
    const waiters = Array.from({ length: 4 }, () => track(limiter, clock));
    await inner.advance(5000);
    assert.deepEqual(
      waiters.map((w) => w.at),
      [3100, 3200, 3300, 3400],
    );
  });

  it('rejects an aborted waiter with the abort reason and moves the next one up', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(1, clock);
    const abort = new AbortController();
    const first = track(limiter, clock);
    const second = track(limiter, clock, 1, abort.signal);
    const third = track(limiter, clock);
    await clock.advance(500);
    const reason = new Error('stop');
    abort.abort(reason);
    await clock.advance(2000);
    assert.equal(first.at, 0);
    assert.equal(second.error, reason);
    assert.equal(second.at, undefined);
    assert.equal(third.at, 1000);
    assert.equal(limiter.pending, 0);
  });

  it('rejects an abort of a waiter in the middle of the queue without delaying the others', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(1, clock);
    const abort = new AbortController();
    const waiters = [track(limiter, clock), track(limiter, clock), track(limiter, clock, 1, abort.signal)];
    const last = track(limiter, clock);
    abort.abort();
    await clock.advance(5000);
    assert.deepEqual(
      waiters.map((w) => w.at),
      [0, 1000, undefined],
    );
    assert.equal((waiters[2]!.error as Error).name, 'AbortError');
    assert.equal(last.at, 2000);
  });

  it('rejects an already aborted signal without consuming a permit', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(1, clock);
    await assert.rejects(limiter.acquire(1, AbortSignal.abort()), { name: 'AbortError' });
    const next = track(limiter, clock);
    await clock.advance(0);
    assert.equal(next.at, 0);
  });

  it('leaves no timer behind once every waiter has aborted', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(1, clock);
    await limiter.acquire();
    const abort = new AbortController();
    const waiters = [track(limiter, clock, 1, abort.signal), track(limiter, clock, 1, abort.signal)];
    await clock.advance(0);
    assert.equal(clock.pendingTimers, 1);
    abort.abort();
    await Promise.all(waiters.map((w) => w.done));
    assert.equal(clock.pendingTimers, 0);
    assert.equal(limiter.pending, 0);
  });

  it('grants 100,000 permits a second with about one timer per millisecond', async () => {
    const inner = new ManualClock();
    let sleeps = 0;
    // Real timers fire no sooner than a millisecond later; model that to count the wake-ups.
    const clock: Clock = {
      now: () => inner.now(),
      sleep: (ms, signal) => {
        sleeps += 1;
        return inner.sleep(Math.max(1, Math.ceil(ms)), signal);
      },
    };
    const limiter = new RateLimiter(100_000, clock);
    let granted = 0;
    const all = Array.from({ length: 100_000 }, () => limiter.acquire().then(() => (granted += 1)));
    await inner.advance(999);
    assert.ok(granted >= 99_800, `${granted} granted`);
    await inner.advance(10);
    await Promise.all(all);
    assert.ok(sleeps <= 1010, `${sleeps} timers`);
  });

  it('refuses a rate that is not positive and a permit count that is not a positive integer', async () => {
    const clock = new ManualClock();
    assert.throws(() => new RateLimiter(0, clock), RangeError);
    assert.throws(() => new RateLimiter(Number.NaN, clock), RangeError);
    const limiter = new RateLimiter(1, clock);
    assert.throws(() => limiter.setRate(-1), RangeError);
    await assert.rejects(limiter.acquire(0), RangeError);
    await assert.rejects(limiter.acquire(1.5), RangeError);
  });

  it('grants everything at once at an unlimited rate', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(Number.POSITIVE_INFINITY, clock);
    await Promise.all(Array.from({ length: 1000 }, () => limiter.acquire(5)));
    assert.equal(clock.now(), 0);
  });
});
