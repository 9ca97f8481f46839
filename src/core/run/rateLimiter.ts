/**
 * The throttle: at most `rate` permits per second, granted in FIFO order, never in bursts.
 * This file cannot depend on the vscode API.
 *
 * A token bucket would let an idle limiter save up permits and then release them all at once, which is
 * exactly the load spike a production backfill must not cause. So this limiter is spacing-based: every
 * permit gets a slot `max(requested at, previous slot + 1000 / rate)`, and since consecutive slots are at
 * least one interval apart, any one-second window holds at most `floor(rate) + 1` slots.
 */
import type { Clock } from './clock';

/**
 * A slot missed by more than this (the event loop stalled, the process was suspended) is not made up for:
 * the schedule restarts from now instead of granting the whole backlog at once. Smaller delays are caught
 * up, which is what lets one timer wake-up grant a batch of due permits at high rates, where slots are far
 * closer together than the timer resolution.
 */
const MAX_CATCH_UP_MS = 50;

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
 * Grants permits at most `rate` per second, in FIFO order, without bursts.
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
      if (slot <= now) {
        this.lastSlot = slot;
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
   * waiters already queued.
   */
  setRate(rate: number): void {
    checkRate(rate);
    if (rate === this.currentRate) return;
    this.currentRate = rate;
    this.intervalMs = 1000 / rate;
    if (this.waiting > 0) this.schedule();
  }

  /**
   * Slot of the last of `count` permits asked for at `requestedAt`. Computed when needed rather than
   * stored, so a rate change re-schedules the whole queue for free.
   */
  private slotOf(count: number, requestedAt: number): number {
    return Math.max(requestedAt, this.lastSlot + this.intervalMs) + (count - 1) * this.intervalMs;
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

  /** Grants the waiters whose slots have passed, in order; returns the next waiter's slot, if any. */
  private grantDue(now: number): number | undefined {
    while (this.waiting > 0) {
      const waiter = this.queue[this.head]!;
      if (waiter.done) {
        this.head += 1;
        continue;
      }
      const slot = this.slotOf(waiter.count, waiter.requestedAt);
      if (slot > now) {
        this.compact();
        return slot;
      }
      this.head += 1;
      this.waiting -= 1;
      this.lastSlot = slot < now - MAX_CATCH_UP_MS ? now : slot;
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
