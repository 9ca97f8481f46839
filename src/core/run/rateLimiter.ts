/**
 * The throttle: permits at a steady `rate` per second, granted in FIFO order, never in bursts.
 * This file cannot depend on the vscode API.
 *
 * Why not a library (bottleneck, p-throttle, limiter): they are token buckets or fixed windows, which burst
 * or exceed the rate within a sliding second, and none takes the fake clock the runner's tests drive.
 *
 * A token bucket would let an idle limiter save up permits and then release them all at once, which is
 * exactly the load spike a production backfill must not cause. So this limiter is spacing-based: every
 * permit gets a slot `max(asked at - MAX_CATCH_UP_MS, previous slot + 1000 / rate)`, is granted once its
 * slot has come, and after a late grant the schedule is kept at most MAX_CATCH_UP_MS behind the clock. A
 * caller or a timer that comes a little after its slot thus costs no throughput (at 5,000 a second the
 * dispatcher is always a fraction of a millisecond late, and dropping those fractions lost 10 to 30 % of
 * the rate), and what is made up at once is never more than 5 ms' worth of permits.
 *
 * Guarantee, on the times permits are granted, for any half-open one-second window `[t, t + 1000 ms)`
 * while the rate stays the same:
 * - up to 100 a second (WINDOW_RULE_MAX_RATE), at most `ceil(rate)` permits: exactly the rate when it is
 *   a whole number. Spacing alone would allow one more (a window can start on one slot and end just after
 *   another: 10 % over at 10 a second), so a permit is also not granted before the permit `ceil(rate)`
 *   before it plus one second and WINDOW_GUARD_MS (5 ms), which keeps the bound when requests reach the
 *   service a few milliseconds sooner or later after their grant; the first permits after an idle second
 *   count as granted COLD_START_MS (25 ms) later, as their requests arrive later. An acquire of more than
 *   `ceil(rate)` permits is granted only when the second before it holds no other permit, and the next
 *   permit only a second after it, so its window holds it alone. The price, at a whole rate: `rate`
 *   permits per 1.005 s, 0.5 % under on average, and 25 ms once after each idle second.
 * - above 100 a second, at most `rate × 1.005 + 1` permits (the spacing, plus at most 5 ms made up), and
 *   `count - 1` more when the window's first grant is a `count`-permit acquire.
 */
import type { Clock } from './clock';

/**
 * How far the schedule may lag the clock and still be made up: a permit asked for or granted up to this
 * late keeps its slot, so the next ones are not pushed back. Anything later (the event loop stalled, the
 * process was suspended) is lost: the schedule restarts this far behind now instead of granting the
 * backlog at once. It also lets one timer wake-up grant a batch of due permits at high rates, where slots
 * are far closer together than the timer resolution.
 */
const MAX_CATCH_UP_MS = 5;

/** Rates up to which the one-second window rule applies: where one permit more is 1 % of the rate or more. */
const WINDOW_RULE_MAX_RATE = 100;

/**
 * Margin over one second between a permit and the one `ceil(rate)` before it, for the delay between a
 * grant and the request reaching the service, which varies by a millisecond or two (a few under load).
 */
const WINDOW_GUARD_MS = 5;

/**
 * The first request after an idle second reaches the service later than the ones after it: a cold code
 * path, a new connection (10 to 15 ms more against the local benchmark target). So the window rule counts
 * the permits of the first grant after an idle second (and any granted before that time has come) as
 * granted this much later: the second after a start or a pause begins this much later, once.
 */
const COLD_START_MS = 25;

interface Waiter {
  count: number;
  requestedAt: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Granted or aborted; an aborted waiter stays in the queue as a tombstone until it reaches the head. */
  done: boolean;
}

/**
 * Grants permits at a steady rate, in FIFO order, without bursts; see the file comment for the exact
 * bound on any one-second window.
 *
 * `acquire(n)` takes `n` consecutive slots and resolves when the last of them is due, so a batch pays for
 * its records before it is sent (a 3-permit acquire at 10/s resolves 200 ms after its first slot).
 * Waiters whose slots have passed are granted together on one timer wake-up, and an acquire on an idle,
 * due limiter resolves without any timer, so 100,000 grants a second cost about one timer per millisecond.
 */
export class RateLimiter {
  private currentRate: number;
  private intervalMs: number;
  /** Slot of the last permit granted; the next one is due one interval later. */
  private lastSlot = Number.NEGATIVE_INFINITY;
  /** Permits granted so far: the index the next permit will have. */
  private granted = 0;
  /**
   * When the window rule counts the last WINDOW_RULE_MAX_RATE permits as granted (their grant times, in
   * order, the first after an idle second COLD_START_MS later), permit `i` at `i % length`: all the rule
   * looks back to. Kept at every rate, so a rate lowered into the rule's range sees the permits just before.
   */
  private readonly recent = new Float64Array(WINDOW_RULE_MAX_RATE).fill(Number.NEGATIVE_INFINITY);
  /** FIFO queue: `queue[head]` is the next waiter; entries before `head` are already gone. */
  private queue: Waiter[] = [];
  private head = 0;
  private waiting = 0;
  /** Aborts the pending wake-up sleep when the schedule changes (new rate, head aborted). */
  private wake: AbortController | undefined;

  /**
   * @param rate permits per second: positive, `Infinity` for no limit.
   * @param clock time source; `realClock` in production, a `ManualClock` in tests.
   */
  constructor(
    rate: number,
    private readonly clock: Clock,
  ) {
    this.currentRate = checkRate(rate);
    this.intervalMs = 1000 / rate;
  }

  /** The current rate in permits per second. */
  get rate(): number {
    return this.currentRate;
  }

  /** Number of acquire calls waiting for their permits. */
  get pending(): number {
    return this.waiting;
  }

  /**
   * Resolves when `count` permits are granted to this caller, after every earlier caller.
   * Rejects with `signal.reason` when the signal aborts first; that consumes no permit and other waiters
   * move up. Rejects with a RangeError when `count` is not a positive integer.
   */
  acquire(count = 1, signal?: AbortSignal): Promise<void> {
    if (!Number.isInteger(count) || count < 1) {
      return Promise.reject(new RangeError(`permit count must be a positive integer, got ${count}`));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.clock.now();
    if (this.waiting === 0) {
      const slot = this.slotOf(count, now);
      if (Math.max(slot, this.windowOpensFor(count)) <= now) {
        this.grant(count, slot, now);
        return Promise.resolve();
      }
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        count,
        requestedAt: now,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        done: false,
      };
      if (signal) {
        waiter.onAbort = () => this.cancel(waiter, signal.reason);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.waiting += 1;
      if (this.waiting === 1) this.schedule();
    });
  }

  /**
   * Changes the rate for every permit not yet granted: the next slot is one new interval after the last
   * granted one, so lowering the rate leaves no earlier-scheduled burst and raising it speeds up the
   * waiters already queued. Below WINDOW_RULE_MAX_RATE the window rule counts the permits already granted
   * in the last second against the new rate, so a lowered rate holds from the next permit on.
   */
  setRate(rate: number): void {
    checkRate(rate);
    if (rate === this.currentRate) return;
    this.currentRate = rate;
    this.intervalMs = 1000 / rate;
    if (this.waiting > 0) this.schedule();
  }

  /**
   * Changes the rate as {@link setRate} does, except that the permits already granted are not counted
   * against the new rate's one-second window: for one member's share of a fleet's rate, which changes
   * when members join, leave or wait while the fleet's total stays. The members' permits in any second
   * then still add up to the total (the old share before the change, the new one after it), whereas
   * counting the last second against a lowered share held the member back for up to a second after each
   * join — rate the fleet never got back.
   */
  reshare(rate: number): void {
    checkRate(rate);
    if (rate === this.currentRate) return;
    this.recent.fill(Number.NEGATIVE_INFINITY);
    this.setRate(rate);
  }

  /**
   * Slot of the last of `count` permits asked for at `requestedAt`. Computed when needed rather than
   * stored, so a rate change re-schedules the whole queue for free.
   */
  private slotOf(count: number, requestedAt: number): number {
    return (
      Math.max(requestedAt - MAX_CATCH_UP_MS, this.lastSlot + this.intervalMs) + (count - 1) * this.intervalMs
    );
  }

  /**
   * Earliest grant time of the next `count` permits under the one-second window rule: one second and the
   * guard after the permit `ceil(rate)` before the last of them, or after the last permit granted when
   * that one is in the same acquire. Minus infinity when the rule does not apply.
   */
  private windowOpensFor(count: number): number {
    const perSecond = Math.ceil(this.currentRate);
    if (perSecond > WINDOW_RULE_MAX_RATE) return Number.NEGATIVE_INFINITY;
    const before = Math.min(this.granted + count - 1 - perSecond, this.granted - 1);
    if (before < 0) return Number.NEGATIVE_INFINITY;
    return this.recent[before % WINDOW_RULE_MAX_RATE]! + 1000 + WINDOW_GUARD_MS;
  }

  /** Records `count` permits granted at `now` whose last slot was `slot`. */
  private grant(count: number, slot: number, now: number): void {
    const previous = this.recent[(this.granted + WINDOW_RULE_MAX_RATE - 1) % WINDOW_RULE_MAX_RATE]!;
    // Idle: for over a second nobody asked for a permit that could have been granted.
    const idle = now - Math.max(previous, this.lastSlot + this.intervalMs) > 1000;
    // Never below the previous entry, so the entries stay in order and the last permit of an acquire
    // always has the latest constraint of the acquire.
    const at = idle ? now + COLD_START_MS : Math.max(now, previous);
    this.lastSlot = Math.max(slot, now - MAX_CATCH_UP_MS);
    // Only the last WINDOW_RULE_MAX_RATE grant times are ever looked at.
    for (let i = Math.max(0, count - WINDOW_RULE_MAX_RATE); i < count; i += 1) {
      this.recent[(this.granted + i) % WINDOW_RULE_MAX_RATE] = at;
    }
    this.granted += count;
  }

  /** Grants every due waiter, then sleeps until the next one is due. */
  private schedule(): void {
    this.wake?.abort();
    this.wake = undefined;
    const now = this.clock.now();
    const next = this.grantDue(now);
    if (next === undefined) return;
    const wake = new AbortController();
    this.wake = wake;
    this.clock.sleep(next - now, wake.signal).then(
      () => {
        if (this.wake !== wake) return;
        this.wake = undefined;
        this.schedule();
      },
      () => {
        // Aborted: a newer schedule() took over.
      },
    );
  }

  /** Grants the waiters that are due, in order; returns when the next waiter is due, if any. */
  private grantDue(now: number): number | undefined {
    while (this.waiting > 0) {
      const waiter = this.queue[this.head]!;
      if (waiter.done) {
        this.head += 1;
        continue;
      }
      const slot = this.slotOf(waiter.count, waiter.requestedAt);
      const due = Math.max(slot, this.windowOpensFor(waiter.count));
      if (due > now) {
        this.compact();
        return due;
      }
      this.head += 1;
      this.waiting -= 1;
      this.grant(waiter.count, slot, now);
      waiter.done = true;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    this.queue = [];
    this.head = 0;
    return undefined;
  }

  private cancel(waiter: Waiter, reason: unknown): void {
    if (waiter.done) return;
    const wasHead = this.queue[this.head] === waiter;
    waiter.done = true;
    this.waiting -= 1;
    waiter.reject(reason);
    // The next waiter may be due earlier than the one that left: its slot counts from the last grant.
    if (wasHead || this.waiting === 0) this.schedule();
  }

  /** Drops the granted prefix of the queue now and then, keeping shifts O(1) amortized. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

function checkRate(rate: number): number {
  if (!(rate > 0)) throw new RangeError(`rate must be a positive number of permits per second, got ${rate}`);
  return rate;
}
