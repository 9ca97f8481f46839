/**
 * The dispatcher: sends prepared units to the attempt strategy at the configured rate (never in bursts),
 * at most `concurrency` attempts at a time, retrying transient failures with backoff, slowing down when
 * the target signals overload, and holding back while too many outcomes are still on their way to the
 * disk (back-pressure). It follows live control — pause, resume, rate, concurrency, stop. What becomes of
 * an outcome (the journal, the counters, the error budget) is its hooks' business: it knows nothing of
 * the source, the ledger or the status. Time comes from a `Clock`, so tests drive it with a fake one.
 * This file cannot depend on the vscode API.
 */
import { setMaxListeners } from 'node:events';
import type { Throttle } from '../format/schemas';
import { AdaptiveRate } from './adaptiveRate';
import type { AttemptStrategy, PreparedUnit } from '../attempts/attemptStrategy';
import { retryDelayMs } from './backoff';
import type { Clock } from './clock';
import { PermitReserve } from './permitReserve';
import { RateLimiter } from './rateLimiter';
import type { AttemptResult, RecordStatus } from '../model/runs';

/** Where dispatching stands; the run adds `halted` and `finished` once it ends. */
export type DispatchState = 'running' | 'paused' | 'stopping';

/** What the dispatcher needs of an attempt strategy. */
export type DispatchStrategy<U extends PreparedUnit> = Pick<
  AttemptStrategy<U>,
  'attempt' | 'setConcurrency' | 'successStatus' | 'failureStatus'
>;

/** The throttle settings the dispatcher follows. */
export type DispatchThrottle = Pick<Throttle, 'rate' | 'concurrency' | 'retries' | 'retryOn' | 'timeoutMs'>;

/** What the dispatcher tells the run. Called synchronously, on the hot path: keep them cheap. */
export interface DispatchHooks<U extends PreparedUnit> {
  /** Every attempt's result, before the unit's outcome is decided (latency, errors by kind). */
  onAttempt(unit: U, result: AttemptResult): void;
  /** A unit's final outcome: its status, the attempts it took, and the last attempt's result. */
  onOutcome(unit: U, status: RecordStatus, attempts: number, result: AttemptResult): void;
  /** Resolves once the outcomes recorded so far are durable (the journal's fsync). Never rejects. */
  durable(): Promise<void>;
  /** The dispatcher stopped (once), with the reason in words. */
  onStop(reason: string): void;
  /** The target signalled overload and the rate was halved: a fleet tells its other members. */
  onOverload?(): void;
}

export interface DispatcherOptions<U extends PreparedUnit> {
  strategy: DispatchStrategy<U>;
  throttle: DispatchThrottle;
  hooks: DispatchHooks<U>;
  clock: Clock;
  /**
   * Units per concurrency slot that may wait for their outcome to be durable while new ones are sent (the
   * recorder's `durabilityWindowPerSlot`): a crash sends again at most `concurrency × (1 + it)` units.
   */
  durabilityWindowPerSlot: number;
  /** Uniform in [0, 1), for the backoff's jitter; `Math.random` unless a test fixes it. */
  random?: () => number;
}

export class Dispatcher<U extends PreparedUnit> {
  private readonly strategy: DispatchStrategy<U>;
  private readonly throttle: DispatchThrottle;
  private readonly hooks: DispatchHooks<U>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly windowPerSlot: number;
  private readonly rate: AdaptiveRate;
  private readonly limiter: RateLimiter;
  /** The dispatch loop's permits, taken a little ahead at rates above what timers can pace one by one. */
  private readonly permits: PermitReserve;
  /** The live concurrency cap (`control concurrency N` changes it). */
  private cap: number;
  private current: DispatchState = 'running';
  private reason: string | undefined;
  /** Units whose attempt is under way: what the concurrency cap counts. */
  private attempting = 0;
  /** Records in attempts under way, for the status. */
  private recordsInFlight = 0;
  /** Units sent, or being sent, whose outcome is not yet durable: what a kill -9 would send again. */
  private undurable = 0;
  /** Pending while the dispatcher waits for room; `wake` resolves it. */
  private release: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private resumeWaiters: (() => void)[] = [];
  /** An attempt threw (a bug): nothing more is sent and the run reports it. */
  private internalFailure: Error | undefined;
  /** Aborted on stop: ends waits for a rate permit, a backoff or a resume at once. */
  private readonly dispatchStop = new AbortController();
  /** Aborted when the grace period after a stop ends: aborts requests still in flight. */
  private readonly hardStop = new AbortController();
  /** What every attempt is given: the same object each time. */
  private readonly attemptOptions: { timeoutMs: number; signal: AbortSignal };

  constructor(options: DispatcherOptions<U>) {
    this.strategy = options.strategy;
    this.throttle = options.throttle;
    this.hooks = options.hooks;
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    this.windowPerSlot = options.durabilityWindowPerSlot;
    this.rate = new AdaptiveRate(options.throttle.rate, options.clock);
    this.limiter = new RateLimiter(options.throttle.rate, options.clock);
    this.permits = new PermitReserve(this.limiter);
    this.cap = options.throttle.concurrency;
    this.attemptOptions = { timeoutMs: options.throttle.timeoutMs, signal: this.hardStop.signal };
    // Every attempt in flight and every wait listens to these two signals (at most `concurrency` plus
    // the dispatcher at a time, each removed when done): not a leak, so no MaxListenersExceededWarning.
    setMaxListeners(0, this.dispatchStop.signal, this.hardStop.signal);
  }

  /** Aborted once the dispatcher stops: whoever feeds it stops reading. */
  get stopSignal(): AbortSignal {
    return this.dispatchStop.signal;
  }

  get stopping(): boolean {
    return this.dispatchStop.signal.aborted;
  }

  /** Why it stopped, once it did. */
  get stopReason(): string | undefined {
    return this.reason;
  }

  get state(): DispatchState {
    return this.current;
  }

  /** Records whose attempt is under way. */
  get inFlight(): number {
    return this.recordsInFlight;
  }

  /** The concurrency cap now. */
  get concurrency(): number {
    return this.cap;
  }

  /** The rate asked for (the runbook's, or the live throttle's), records per second. */
  get configuredRate(): number {
    return this.rate.configured();
  }

  /** The rate dispatched at now: the configured one, less an overload slowdown. */
  get effectiveRate(): number {
    return this.rate.effective();
  }

  /**
   * Sends the units at once when nothing stands in the way — running, a free slot, room in the
   * durability window, rate permits already in hand — without a single await: the common case at high
   * rates. False when they must wait: `dispatch` then sends them.
   */
  trySend(units: U[]): boolean {
    const blocked =
      this.current !== 'running' || this.internalFailure !== undefined || this.mustWaitForRoom();
    if (blocked || !this.permits.tryTake(units.length)) return false;
    this.send(units);
    return true;
  }

  /**
   * Waits for a concurrency slot, room in the durability window, a rate permit and no pause, then sends;
   * false when the dispatcher is stopping. Throws an attempt's internal failure.
   */
  async dispatch(units: U[]): Promise<boolean> {
    while (this.current === 'paused' && !this.dispatchStop.signal.aborted) await this.waitForResume();
    while (this.internalFailure === undefined && this.mustWaitForRoom()) {
      if (this.dispatchStop.signal.aborted) return false;
      await this.nextRelease();
    }
    if (this.internalFailure) throw this.internalFailure;
    try {
      await this.permits.take(units.length, this.dispatchStop.signal);
    } catch {
      return false;
    }
    if (this.dispatchStop.signal.aborted) return false;
    this.send(units);
    return true;
  }

  /**
   * Waits until every unit sent has its outcome durable, or was aborted: once stopped (now or while
   * waiting), attempts still in flight after `graceMs` are aborted and leave no outcome, so a resume
   * sends them again with the same idempotency key.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.undurable === 0) return;
    const graceOver = new AbortController();
    const startGrace = () => {
      void this.clock.sleep(graceMs, graceOver.signal).then(
        () => this.hardStop.abort(),
        () => undefined,
      );
    };
    if (this.dispatchStop.signal.aborted) startGrace();
    else this.dispatchStop.signal.addEventListener('abort', startGrace, { once: true });
    try {
      while (this.undurable > 0) await this.nextRelease();
    } finally {
      graceOver.abort();
      this.dispatchStop.signal.removeEventListener('abort', startGrace);
    }
  }

  /** Throws the internal failure of an attempt (a bug), if one threw. */
  throwIfFailed(): void {
    if (this.internalFailure) throw this.internalFailure;
  }

  /** Stops dispatching now; `drain` gives attempts in flight a grace period. False if already stopped. */
  stop(reason: string): boolean {
    if (this.dispatchStop.signal.aborted) return false;
    this.reason = reason;
    this.current = 'stopping';
    this.dispatchStop.abort();
    this.wakeDispatcher();
    for (const wake of this.resumeWaiters.splice(0)) wake();
    this.hooks.onStop(reason);
    return true;
  }

  /** Sends nothing more until `resume`; attempts under way carry on. */
  pause(): void {
    if (this.current === 'running') this.current = 'paused';
  }

  resume(): void {
    if (this.current !== 'paused') return;
    this.current = 'running';
    // Permits taken ahead belong to a moment that has passed.
    this.permits.clear();
    for (const wake of this.resumeWaiters.splice(0)) wake();
  }

  /** A new configured rate; a slowdown in progress carries on below it. */
  setRate(rate: number): void {
    this.rate.setConfigured(rate);
    this.limiter.setRate(this.rate.effective());
  }

  /**
   * This member's share of a fleet's unchanged rate changed (members joined, left or wait): the new share
   * applies from the next permit on, without the permits sent at the old share held against it
   * (RateLimiter.reshare).
   */
  setShare(rate: number): void {
    this.rate.setConfigured(rate);
    this.limiter.reshare(this.rate.effective());
  }

  setConcurrency(concurrency: number): void {
    this.cap = concurrency;
    this.strategy.setConcurrency(concurrency);
  }

  /** Another member of the fleet saw the target overloaded: halve the rate as if this one had. */
  slowDown(): void {
    if (this.rate.onOverload()) this.limiter.setRate(this.rate.effective());
  }

  /** Passes the adaptive rate's recovery, which follows the clock alone, on to the limiter. */
  refreshRate(): void {
    this.limiter.setRate(this.rate.effective());
  }

  /**
   * Attempts the units. Their slot is freed when the attempt ends; they leave the durability window when
   * their outcome is durable. So a `kill -9` sends again at most `concurrency` units in flight plus the
   * durability window's units whose outcome was still on its way to the disk.
   */
  private send(units: U[]): void {
    this.attempting += 1;
    this.undurable += 1;
    // Callbacks made once, not per unit: a million units made three million closures.
    void this.attempt(units, 1).then(this.attemptEnded, this.attemptThrew).then(this.madeDurable);
  }

  private readonly attemptEnded = (): Promise<void> => {
    this.attempting -= 1;
    this.wakeDispatcher();
    return this.hooks.durable();
  };

  private readonly attemptThrew = (error: unknown): void => {
    // An attempt throws only on a bug: stop sending and report it once in-flight records end.
    this.attempting -= 1;
    this.internalFailure ??= error instanceof Error ? error : new Error(String(error));
  };

  private readonly madeDurable = (): void => {
    this.undurable -= 1;
    this.wakeDispatcher();
  };

  private mustWaitForRoom(): boolean {
    return this.attempting >= this.cap || this.undurable >= this.cap + this.durabilityWindow();
  }

  /**
   * How many attempted units may wait for their outcome to be durable while new ones are sent. Without it
   * a slot would be held for an fsync after every response — half of a fast target's throughput; with it
   * unbounded, a crash could repeat any number of records.
   */
  private durabilityWindow(): number {
    return this.cap * this.windowPerSlot;
  }

  /** Resolves the next time a slot or a durability-window place is freed, or the dispatcher stops. */
  private nextRelease(): Promise<void> {
    this.release ??= new Promise((resolve) => {
      this.wake = resolve;
    });
    return this.release;
  }

  private wakeDispatcher(): void {
    const wake = this.wake;
    this.release = undefined;
    this.wake = undefined;
    wake?.();
  }

  private waitForResume(): Promise<void> {
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  /**
   * Attempts the units until each has an outcome, retrying what may work next time. Not an async
   * function: an attempt that needs no retry (nearly all) costs its strategy's promise and one callback.
   */
  private attempt(units: U[], attempt: number): Promise<void> {
    this.recordsInFlight += units.length;
    let results: Promise<Map<string, AttemptResult>>;
    try {
      results = this.strategy.attempt(units, this.attemptOptions);
    } catch (error) {
      this.recordsInFlight -= units.length;
      return Promise.reject(error as Error);
    }
    return results.then(
      (byKey) => {
        this.recordsInFlight -= units.length;
        return this.judge(units, attempt, byKey);
      },
      (error: unknown) => {
        this.recordsInFlight -= units.length;
        throw error;
      },
    );
  }

  /** Gives each unit its outcome, or retries it (after a backoff and a permit): what one attempt decided. */
  private judge(
    pending: U[],
    attempt: number,
    results: Map<string, AttemptResult>,
  ): Promise<void> | undefined {
    const throttle = this.throttle;
    // Aborted at a stop: no outcome, so a resume sends these records again with the same key.
    if (this.hardStop.signal.aborted) return undefined;
    let retry: U[] | undefined;
    let retryAfterMs = 0;
    for (const unit of pending) {
      const result = results.get(unit.record.key)!;
      this.hooks.onAttempt(unit, result);
      if (result.ok) {
        this.rate.onSuccess();
        this.hooks.onOutcome(unit, result.verdict?.status ?? this.strategy.successStatus, attempt, result);
        continue;
      }
      if (result.overload) {
        if (this.rate.onOverload()) this.hooks.onOverload?.();
        this.limiter.setRate(this.rate.effective());
      }
      if (result.retryable && retryAllowed(result, throttle.retryOn) && attempt <= throttle.retries) {
        (retry ??= []).push(unit);
        retryAfterMs = Math.max(retryAfterMs, result.retryAfterMs ?? 0);
      } else {
        this.hooks.onOutcome(unit, this.strategy.failureStatus, attempt, result);
      }
    }
    return retry && this.retry(retry, attempt, retryAfterMs);
  }

  private async retry(units: U[], attempt: number, retryAfterMs: number): Promise<void> {
    const delay = retryDelayMs(attempt, { retryAfterMs, random: this.random });
    try {
      await this.clock.sleep(delay, this.dispatchStop.signal);
      await this.limiter.acquire(units.length, this.dispatchStop.signal);
    } catch {
      return; // stopping: the records waiting to be retried have no outcome and will be resumed
    }
    await this.attempt(units, attempt + 1);
  }
}

/** Whether the throttle's `retryOn` allows retrying this kind of failure. */
export function retryAllowed(
  result: Extract<AttemptResult, { ok: false }>,
  retryOn: readonly string[],
): boolean {
  switch (result.kind) {
    case 'http-429':
      return retryOn.includes('429');
    case 'http-5xx':
      return retryOn.includes('5xx');
    case 'timeout':
      return retryOn.includes('timeout');
    case 'connection':
      return retryOn.includes('connection');
    default:
      return true; // commands (exit 75) and handlers decide themselves whether a failure is transient
  }
}
