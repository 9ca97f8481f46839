/**
 * Time as a seam. The run policies (rate limiter, adaptive rate, rate meter) read time and wait only
 * through a `Clock`, so the runner uses the real one and tests drive a `ManualClock` deterministically,
 * with no assertion ever depending on how fast the machine is. This file cannot depend on the vscode API.
 */

/** The two things the run policies need from time. */
export interface Clock {
  /** Monotonic milliseconds from an arbitrary origin: for durations and schedules, not for dates. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds (0 when negative). Rejects with `signal.reason` when the signal is
   * aborted first (or already is), and then leaves no timer behind.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The real clock. `performance.now()` rather than `Date.now()` because a wall clock can jump (NTP, a
 * laptop waking up), and a backwards jump would stall the rate limiter's schedule.
 */
export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

interface ManualTimer {
  due: number;
  /** Breaks ties between timers due at the same instant: first set, first fired. */
  seq: number;
  resolve: () => void;
}

/**
 * A clock that only moves when told to, for tests. `advance` fires the timers that fall due in time order,
 * setting `now()` to each timer's due time and letting the promise continuations it triggers run (and set
 * new timers) before moving on, so a test observes exactly the schedule the code asked for.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  /** Sorted by due time, then by creation. Tests keep only a handful of timers, so an array is enough. */
  private readonly timers: ManualTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Number of sleeps not yet resolved or aborted. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.timers.indexOf(timer);
        if (index >= 0) this.timers.splice(index, 1);
        reject(signal?.reason);
      };
      const timer: ManualTimer = {
        due: this.time + (ms > 0 ? ms : 0),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let index = this.timers.length;
      while (index > 0 && this.timers[index - 1]!.due > timer.due) index -= 1;
      this.timers.splice(index, 0, timer);
    });
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.time + ms);
  }

  /** Moves time forward to `target` (never backwards), firing every timer that falls due on the way. */
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await settle();
      const next = this.timers[0];
      if (!next || next.due > target) break;
      this.time = Math.max(this.time, next.due);
      // Fire every timer due at this instant together, then let their continuations run.
      while (this.timers[0] && this.timers[0].due <= this.time) this.timers.shift()!.resolve();
    }
    this.time = Math.max(this.time, target);
    await settle();
  }
}

/**
 * Lets every pending promise continuation run: `setImmediate` fires only once the microtask queue is
 * empty, including the microtasks that those continuations queue in turn.
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
