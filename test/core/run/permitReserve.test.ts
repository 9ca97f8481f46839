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
    assert.ok(grants.length >= 19_000 && grants.length <= 20_041, `${grants.length} grants in one second`);
  });

  it('is needed: the limiter alone gives such a caller about one permit per timer wake-up', async () => {
    const { clock, inner } = coarseClock();
    const limiter = new RateLimiter(20_000, clock);
    const stop = new AbortController();
    const granted = sequentialGrants(() => limiter.acquire(1, stop.signal), clock, stop.signal);
    await inner.advance(1000);
    stop.abort();
    assert.ok((await granted).length < 3000);
  });

  it('never hands out a permit before its slot', async () => {
    const { clock, inner } = coarseClock();
    const limiter = new RateLimiter(20_000, clock);
    const reserve = new PermitReserve(limiter);
    const stop = new AbortController();
    const granted = sequentialGrants(() => reserve.take(1, stop.signal), clock, stop.signal);
    await inner.advance(500);
    stop.abort();
    // Slots are 0.05 ms apart from time 0: the n-th permit (from 0) is due at n * 0.05 ms.
    (await granted).forEach((at, n) => assert.ok(at >= n * 0.05 - 1e-9, `permit ${n} at ${at} ms`));
  });

  it('asks for exactly what it is asked for at ordinary rates', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    const reserve = new PermitReserve(limiter);
    const times: number[] = [];
    const taking = (async () => {
      for (let i = 0; i < 3; i += 1) {
        await reserve.take(1);
        times.push(clock.now());
      }
    })();
    await clock.advance(1000);
    await taking;
    assert.deepEqual(times, [0, 100, 200]);
  });

  it('forgets held permits when cleared, so none outlives a pause', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10_000, clock);
    const reserve = new PermitReserve(limiter);
    const first = reserve.take(1);
    await clock.advance(5);
    await first;
    reserve.clear();
    await clock.advance(60_000);
    const afterPause = reserve.take(1);
    let resolved = false;
    void afterPause.then(() => (resolved = true));
    await clock.advance(0);
    assert.equal(resolved, false, 'a cleared reserve asks the limiter again');
    await clock.advance(5);
    assert.equal(resolved, true);
  });
});
