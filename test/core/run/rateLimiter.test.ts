import { strict as assert } from 'node:assert';
import { ManualClock, type Clock } from '../../../src/core/run/clock';
import { PermitReserve } from '../../../src/core/run/permitReserve';
import { RateLimiter } from '../../../src/core/run/rateLimiter';
import { seededRandom } from '../../../src/core/support/seededRandom';
import { busiestSecond } from './support/busiestSecond';

/** Permits per second from the first grant to the last. */
function averageRate(grants: number[]): number {
  return ((grants.length - 1) * 1000) / (grants.at(-1)! - grants[0]!);
}

/** A clock whose timers fire on a whole millisecond and no sooner than one later, as real timers do. */
function coarseClock(): { clock: Clock; inner: ManualClock } {
  const inner = new ManualClock(1_000_000);
  const clock: Clock = {
    now: () => inner.now(),
    sleep: (ms, signal) => inner.sleep(Math.max(1, Math.ceil(inner.now() + ms) - inner.now()), signal),
  };
  return { clock, inner };
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
 * for every worker to be away and the limiter to go idle), for `durationMs` of fake time. With `breaks`,
 * every worker also stops for 3 to 5 s after each 2 to 10 s, so the limiter sits idle for seconds. Returns
 * the grant times.
 */
async function greedyWorkload(
  rate: number,
  durationMs: number,
  seed: number,
  { breaks = false } = {},
): Promise<number[]> {
  const clock = new ManualClock(1_000_000);
  const limiter = new RateLimiter(rate, clock);
  const random = seededRandom(seed);
  const stop = new AbortController();
  const grants: number[] = [];
  const interval = 1000 / rate;
  const offTimes: Array<[number, number]> = [];
  for (let at = clock.now(); breaks && at < clock.now() + durationMs;) {
    const start = at + 2000 + random() * 8000;
    at = start + 3000 + random() * 2000;
    offTimes.push([start, at]);
  }
  const worker = async (): Promise<void> => {
    try {
      for (;;) {
        await limiter.acquire(1, stop.signal);
        grants.push(clock.now());
        const off = offTimes.find(([start, end]) => clock.now() >= start && clock.now() < end);
        if (off) await clock.sleep(off[1] - clock.now(), stop.signal);
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

/**
 * The runner's dispatch loop: one caller taking one permit at a time through a PermitReserve, on timers
 * that fire up to a millisecond late, and itself a millisecond late (its own work) after a third of its
 * permits — at high rates less often, a quarter of its time, so that it can keep up. Returns the grant
 * times over `durationMs`.
 */
async function lateDispatcher(rate: number, durationMs: number, seed: number): Promise<number[]> {
  const { clock, inner } = coarseClock();
  const reserve = new PermitReserve(new RateLimiter(rate, clock));
  const random = seededRandom(seed);
  const stop = new AbortController();
  const grants: number[] = [];
  const dispatching = (async () => {
    try {
      for (;;) {
        await reserve.take(1, stop.signal);
        grants.push(clock.now());
        if (random() < Math.min(1 / 3, 250 / rate)) await clock.sleep(0.5, stop.signal);
      }
    } catch {
      // stopped
    }
  })();
  await inner.advance(durationMs);
  stop.abort();
  await dispatching;
  return grants;
}

describe('RateLimiter', () => {
  for (const [rate, durationMs] of [
    [0.5, 3_600_000],
    [1, 1_800_000],
    [7.5, 600_000],
    [10, 600_000],
    [33.3, 300_000],
    [100, 120_000],
  ] as const) {
    it(`never grants more than ceil(rate) permits in any half-open one-second window at ${rate}/s`, async () => {
      const grants = await greedyWorkload(rate, durationMs, rate * 7 + 1);
      assert.ok(busiestSecond(grants) <= Math.ceil(rate), `busiest second ${busiestSecond(grants)}`);
      // The bound must not come from starving the workers: with demand above the rate, throughput is
      // the rate, less what the rare moments when every worker pauses cost.
      const expected = (rate * durationMs) / 1000;
      assert.ok(grants.length >= expected * 0.8 && grants.length <= expected + 1, `${grants.length} grants`);
    });
  }

  for (const [rate, durationMs] of [
    [1000, 30_000],
    [5000, 8_000],
  ] as const) {
    it(`never grants more than rate × 1.005 + 1 permits in any half-open one-second window at ${rate}/s`, async () => {
      const grants = await greedyWorkload(rate, durationMs, rate * 7 + 1);
      const bound = Math.floor(rate + (rate * 5) / 1000) + 1;
      assert.ok(busiestSecond(grants) <= bound, `busiest second ${busiestSecond(grants)} > ${bound}`);
      const expected = (rate * durationMs) / 1000;
      assert.ok(
        grants.length >= expected * 0.8 && grants.length <= expected * 1.001 + 1,
        `${grants.length} grants`,
      );
    });
  }

  for (const [rate, durationMs] of [
    [1, 1_000_000],
    [10, 200_000],
    [100, 60_000],
    [1000, 20_000],
    [5000, 10_000],
  ] as const) {
    it(`holds the average within 1 % of ${rate}/s for a dispatcher that is often a little late`, async () => {
      const grants = await lateDispatcher(rate, durationMs, rate + 3);
      const average = averageRate(grants);
      assert.ok(Math.abs(average / rate - 1) <= 0.01, `average ${average}/s`);
    });
  }

  for (const rate of [10, 100]) {
    it(`keeps ceil(rate) a second at ${rate}/s where requests arrive up to 4 ms after their grant, the first after an idle second 20 ms more`, async () => {
      const grants = await greedyWorkload(rate, 300_000, rate * 5 + 2, { breaks: true });
      const random = seededRandom(rate);
      const arrivals = grants.map(
        (at, i) => at + random() * 4 + (i === 0 || at - grants[i - 1]! > 2000 ? 20 : 0),
      );
      arrivals.sort((a, b) => a - b);
      assert.ok(
        grants.some((at, i) => i > 0 && at - grants[i - 1]! > 2000),
        'the workload goes idle',
      );
      assert.ok(busiestSecond(arrivals) <= rate, `busiest second ${busiestSecond(arrivals)}`);
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
    // The first permit's slot is 5 ms back (the schedule may lag the clock by that much); the next ones
    // follow it 100 ms apart.
    assert.deepEqual(
      waiters.map((w) => w.at),
      [0, 295, 395],
    );
  });

  it('grants an acquire of more than ceil(rate) permits alone in its second', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    const waiters = [1, 1, 15, 1].map((count) => track(limiter, clock, count));
    await clock.advance(10_000);
    const [, before, batch, after] = waiters.map((w) => w.at!);
    assert.ok(batch! - before! >= 1000 && after! - batch! >= 1000, `${before}, ${batch}, ${after}`);
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

  it('saves up no more than 5 ms while idle, so a rush after a pause is still spaced', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    await limiter.acquire();
    await clock.advance(60_000);
    const waiters = Array.from({ length: 5 }, () => track(limiter, clock));
    await clock.advance(1000);
    assert.deepEqual(
      waiters.map((w) => w.at),
      [60_000, 60_095, 60_195, 60_295, 60_395],
    );
  });

  it('makes up no more than 5 ms of permits at once after a pause at 5,000/s', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(5000, clock);
    await limiter.acquire();
    await clock.advance(1000);
    const waiters = Array.from({ length: 100 }, () => track(limiter, clock));
    await clock.advance(0);
    // At most 5 ms' worth at 0.2 ms apart, and the one due now.
    const atOnce = waiters.filter((w) => w.at === 1000).length;
    assert.ok(atOnce > 1 && atOnce <= 26, `${atOnce} at once`);
  });

  it('applies a lowered rate to the waiters already queued, counting the last second against it', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    const waiters = Array.from({ length: 6 }, () => track(limiter, clock));
    await clock.advance(250);
    limiter.setRate(2);
    await clock.advance(5000);
    // At 2/s a permit waits for the one two before it plus a second and the 5 ms guard (the first, after
    // an idle second, counts 25 ms later), and for 500 ms after the slot before it.
    assert.deepEqual(
      waiters.map((w) => w.at),
      [0, 95, 195, 1100, 1595, 2105],
    );
  });

  it("takes a lowered share of a fleet's rate from the next slot on, not holding the last second against it", async () => {
    // A member alone at 200/s, then three more join: its share drops to 50/s. setRate would hold its next
    // permit until a second after the one 50 before it (about 750 ms of nothing); the joiners' permits
    // replace the ones it no longer sends, so the fleet would lose that rate.
    const clock = new ManualClock();
    const limiter = new RateLimiter(200, clock);
    for (let i = 0; i < 200; i += 1) await track(limiter, clock).done.then(() => clock.advance(5));
    const before = clock.now();
    limiter.reshare(50);
    const next = Array.from({ length: 3 }, () => track(limiter, clock));
    await clock.advance(100);
    assert.deepEqual(
      next.map((w) => w.at! - before),
      [10, 30, 50], // one 20 ms interval after the last slot, and so on
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
    // at the new spacing, from 5 ms back.
    assert.deepEqual(
      waiters.map((w) => w.at),
      [0, 500, 595, 695],
    );
    assert.equal(limiter.rate, 10);
  });

  /** A clock whose next timer fires `late.by` ms late, as after an event-loop stall or a suspended laptop. */
  function stallingClock(): { clock: Clock; inner: ManualClock; late: { by: number } } {
    const inner = new ManualClock();
    const late = { by: 0 };
    const clock: Clock = {
      now: () => inner.now(),
      sleep: (ms, signal) => {
        const by = late.by;
        late.by = 0;
        return inner.sleep(ms + by, signal);
      },
    };
    return { clock, inner, late };
  }

  it('makes up no more than 5 ms when its timer fires very late', async () => {
    const { clock, inner, late } = stallingClock();
    const limiter = new RateLimiter(10, clock);
    await limiter.acquire();
    late.by = 3000;
    const waiters = Array.from({ length: 4 }, () => track(limiter, clock));
    await inner.advance(5000);
    assert.deepEqual(
      waiters.map((w) => w.at),
      [3095, 3190, 3290, 3390],
    );
  });

  it('grants no more than 5 ms of permits at once when its timer fires very late at 5,000/s', async () => {
    const { clock, inner, late } = stallingClock();
    const limiter = new RateLimiter(5000, clock);
    late.by = 100;
    const waiters = Array.from({ length: 200 }, () => track(limiter, clock));
    await inner.advance(1000);
    // The first ones are granted at once, until a waiter needs a timer: the late one.
    const lateGrant = waiters.find((w) => w.at! >= 100)!.at!;
    // The one whose slot passed long ago, then at most 5 ms' worth at 0.2 ms apart.
    const atOnce = waiters.filter((w) => w.at === lateGrant).length;
    assert.ok(atOnce > 1 && atOnce <= 26, `${atOnce} at once`);
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
    // Where the second would have been: a second, the 5 ms guard and the 25 ms for a first permit after
    // an idle second after the first.
    assert.equal(third.at, 1030);
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
      [0, 1030, undefined],
    );
    assert.equal((waiters[2]!.error as Error).name, 'AbortError');
    assert.equal(last.at, 2035);
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
