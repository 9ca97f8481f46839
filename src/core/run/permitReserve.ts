/**
 * Rate permits for one sequential caller: the runner's dispatch loop. This file cannot depend on the
 * vscode API.
 *
 * At high rates permits are closer together than a timer can fire (20,000 a second are 0.05 ms apart; a
 * timer fires a millisecond or more later). The limiter makes up the few milliseconds a late wake-up
 * costs, so a caller asking for one permit at a time does get the rate, but it calls the limiter once per
 * record. So at such rates the reserve takes the next couple of milliseconds' worth of permits in one
 * acquire — which the limiter grants at the last of their slots, so no permit is used before its slot —
 * and hands them out one by one. At ordinary rates (below 500 a second) it asks for exactly what it is
 * asked for.
 */
import type { RateLimiter } from './rateLimiter';

/** How far ahead the reserve takes permits: about two timer wake-ups. */
const AHEAD_MS = 2;

/**
 * Most permits taken ahead at once, whatever the rate: at a huge (or unlimited) rate `rate × AHEAD_MS`
 * overflows to Infinity, which the limiter rightly refuses — and a refused acquire once ended the
 * dispatch loop as if the source were finished, records silently unsent.
 */
const MAX_AHEAD_PERMITS = 10_000;

/** Hands out a rate limiter's permits to one sequential caller, a couple of milliseconds' worth at a time. */
export class PermitReserve {
  /** Permits granted and not handed out yet. */
  private held = 0;

  constructor(private readonly limiter: RateLimiter) {}

  /** Resolves once `count` permits are this caller's; rejects like `RateLimiter.acquire` on abort. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    if (this.held >= count) {
      this.held -= count;
      return;
    }
    const needed = count - this.held;
    const ahead = Math.min(MAX_AHEAD_PERMITS, Math.floor((this.limiter.rate * AHEAD_MS) / 1000));
    const batch = Math.max(needed, ahead);
    await this.limiter.acquire(batch, signal);
    this.held += batch - count;
  }

  /** Takes `count` permits already in hand, without waiting; false (taking none) when there are fewer. */
  tryTake(count: number): boolean {
    if (this.held < count) return false;
    this.held -= count;
    return true;
  }

  /** Forgets the permits held, e.g. on resuming after a pause: they belong to a moment that has passed. */
  clear(): void {
    this.held = 0;
  }
}
