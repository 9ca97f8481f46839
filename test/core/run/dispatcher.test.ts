import { strict as assert } from 'node:assert';
import type { PreparedUnit } from '../../../src/core/attempts/attemptStrategy';
import { ManualClock } from '../../../src/core/run/clock';
import { Dispatcher, type DispatchStrategy, type DispatchThrottle } from '../../../src/core/run/dispatcher';
import type { AttemptResult, RecordStatus } from '../../../src/core/model/runs';
import { busiestSecond } from './support/busiestSecond';

/** Outcomes per slot that may wait to be durable: a recorder's figure, small here so a test reaches it. */
const WINDOW_PER_SLOT = 16;

/** What the fake strategy answers for one attempt of one record, and how long the attempt takes. */
interface Answer {
  result: AttemptResult;
  takesMs: number;
}

const ok = (takesMs = 10): Answer => ({ result: { ok: true, durationMs: takesMs }, takesMs });
const unavailable = (takesMs = 10, extra: Partial<Extract<AttemptResult, { ok: false }>> = {}): Answer => ({
  result: {
    ok: false,
    durationMs: takesMs,
    kind: 'http-5xx',
    retryable: true,
    overload: false,
    httpStatus: 500,
    message: 'HTTP 500',
    ...extra,
  },
  takesMs,
});

/** An attempt strategy that answers from a script, takes fake time, and notes when each attempt began. */
class FakeStrategy implements DispatchStrategy<PreparedUnit> {
  readonly successStatus = 'succeeded' as const;
  readonly failureStatus = 'failed' as const;
  /** Start time and record keys of every attempt, in order. */
  readonly attempts: { at: number; keys: string[] }[] = [];
  readonly concurrencyChanges: number[] = [];
  active = 0;
  mostActive = 0;
  private readonly tries = new Map<string, number>();

  constructor(
    private readonly clock: ManualClock,
    private readonly answer: (key: string, attempt: number) => Answer = () => ok(),
  ) {}

  async attempt(units: PreparedUnit[], opts: { signal?: AbortSignal }): Promise<Map<string, AttemptResult>> {
    this.attempts.push({ at: this.clock.now(), keys: units.map((u) => u.record.key) });
    this.active += 1;
    this.mostActive = Math.max(this.mostActive, this.active);
    const answers = units.map((unit) => {
      const attempt = (this.tries.get(unit.record.key) ?? 0) + 1;
      this.tries.set(unit.record.key, attempt);
      return [unit.record.key, this.answer(unit.record.key, attempt)] as const;
    });
    try {
      await this.clock.sleep(Math.max(...answers.map(([, a]) => a.takesMs)), opts.signal);
    } catch {
      // aborted by a hard stop: what a real executor reports as a failure
    } finally {
      this.active -= 1;
    }
    return new Map(answers.map(([key, a]) => [key, a.result]));
  }

  setConcurrency(concurrency: number): void {
    this.concurrencyChanges.push(concurrency);
  }

  startsOf(key: string): number[] {
    return this.attempts.filter((a) => a.keys.includes(key)).map((a) => a.at);
  }
}

interface Outcome {
  key: string;
  status: RecordStatus;
  attempts: number;
}

function unit(key: string): PreparedUnit {
  return { record: { key, line: 1, fields: { id: key } }, idempotencyKey: `k-${key}` };
}

function units(count: number): PreparedUnit[] {
  return Array.from({ length: count }, (_, i) => unit(String(i + 1)));
}

const THROTTLE: DispatchThrottle = {
  rate: 1_000_000,
  concurrency: 4,
  retries: 3,
  retryOn: ['429', '5xx', 'timeout', 'connection'],
  timeoutMs: 10_000,
};

/** A dispatcher over a fake strategy and a manual clock, with what its hooks saw. */
function setUp(
  options: {
    throttle?: Partial<DispatchThrottle>;
    answer?: (key: string, attempt: number) => Answer;
    durable?: () => Promise<void>;
  } = {},
) {
  const clock = new ManualClock(1_000_000);
  const strategy = new FakeStrategy(clock, options.answer);
  const outcomes: Outcome[] = [];
  const attempted: string[] = [];
  const stops: string[] = [];
  const overloads: number[] = [];
  const dispatcher = new Dispatcher<PreparedUnit>({
    strategy,
    throttle: { ...THROTTLE, ...options.throttle },
    clock,
    durabilityWindowPerSlot: WINDOW_PER_SLOT,
    random: () => 0.5,
    hooks: {
      onAttempt: (u) => attempted.push(u.record.key),
      onOutcome: (u, status, attempts) => outcomes.push({ key: u.record.key, status, attempts }),
      durable: options.durable ?? (() => Promise.resolve()),
      onStop: (reason) => stops.push(reason),
      onOverload: () => overloads.push(clock.now()),
    },
  });
  /** Hands the units over one by one, as the record feed does; resolves when the last is handed over. */
  const feed = async (list: PreparedUnit[]) => {
    for (const u of list) if (!dispatcher.trySend([u]) && !(await dispatcher.dispatch([u]))) return false;
    return true;
  };
  return { clock, strategy, dispatcher, outcomes, attempted, stops, overloads, feed };
}

describe('Dispatcher', () => {
  it('spaces attempts at the configured rate, never more in any one second', async () => {
    const { clock, strategy, dispatcher, outcomes, feed } = setUp({ throttle: { rate: 10 } });
    const fed = feed(units(30));
    await clock.advance(10_000);
    assert.equal(await fed, true);
    await dispatcher.drain(1000);
    const starts = strategy.attempts.map((a) => a.at);
    assert.equal(starts.length, 30);
    assert.equal(busiestSecond(starts), 10);
    // ...and not slower than the rate either: 30 records at 10 a second take about 3 seconds.
    const span = starts.at(-1)! - starts[0]!;
    assert.ok(span >= 2900 && span < 3100, `took ${span} ms`);
    assert.equal(outcomes.length, 30);
    assert.ok(outcomes.every((o) => o.status === 'succeeded' && o.attempts === 1));
  });

  it('follows a live rate change', async () => {
    const { clock, strategy, dispatcher, feed } = setUp({ throttle: { rate: 10 } });
    const fed = feed(units(40));
    await clock.advance(2000);
    const before = strategy.attempts.length;
    dispatcher.setRate(2);
    assert.equal(dispatcher.configuredRate, 2);
    await clock.advance(5000);
    // About 10 more at 2 a second (one permit may already have been granted at the old rate).
    const after = strategy.attempts.length - before;
    assert.ok(after >= 9 && after <= 12, `${after} attempts in 5 s at 2/s`);
    dispatcher.stop('test over');
    await clock.advance(100);
    assert.equal(await fed, false);
  });

  it('never has more attempts under way than the concurrency cap, and uses all of it', async () => {
    const { clock, strategy, dispatcher, outcomes, feed } = setUp({
      throttle: { concurrency: 3 },
      answer: () => ok(100),
    });
    const fed = feed(units(12));
    await clock.advance(1000);
    await fed;
    await dispatcher.drain(1000);
    assert.equal(strategy.mostActive, 3);
    assert.equal(outcomes.length, 12);
    // Four waves of three, one attempt's duration apart: slots are freed when an attempt ends.
    const waves = [...new Set(strategy.attempts.map((a) => Math.round(a.at)))];
    assert.deepEqual(waves, [1_000_000, 1_000_100, 1_000_200, 1_000_300]);
  });

  it('follows a live concurrency change and passes it to the strategy', async () => {
    const { clock, strategy, dispatcher, feed } = setUp({
      throttle: { concurrency: 2 },
      answer: () => ok(100),
    });
    dispatcher.setConcurrency(5);
    assert.deepEqual(strategy.concurrencyChanges, [5]);
    assert.equal(dispatcher.concurrency, 5);
    const fed = feed(units(10));
    await clock.advance(1000);
    await fed;
    assert.equal(strategy.mostActive, 5);
  });

  it('retries a transient failure as often as allowed, with growing backoff, then records it failed', async () => {
    const { clock, strategy, dispatcher, outcomes, attempted, feed } = setUp({
      throttle: { retries: 3 },
      answer: () => unavailable(10),
    });
    const fed = feed([unit('a')]);
    await clock.advance(10_000);
    await fed;
    await dispatcher.drain(1000);
    assert.deepEqual(outcomes, [{ key: 'a', status: 'failed', attempts: 4 }]);
    assert.equal(attempted.length, 4, 'every attempt is reported');
    // Full jitter with random() = 0.5: half of 200, 400, 800 ms after each 10 ms attempt ended.
    const starts = strategy.startsOf('a');
    const gaps = starts.slice(1).map((at, i) => Math.round(at - starts[i]! - 10));
    assert.deepEqual(gaps, [100, 200, 400]);
  });

  it('records a record that succeeds on a retry as succeeded, with its attempts', async () => {
    const { clock, dispatcher, outcomes, feed } = setUp({
      answer: (_key, attempt) => (attempt < 3 ? unavailable() : ok()),
    });
    const fed = feed([unit('a')]);
    await clock.advance(10_000);
    await fed;
    await dispatcher.drain(1000);
    assert.deepEqual(outcomes, [{ key: 'a', status: 'succeeded', attempts: 3 }]);
  });

  it('waits at least as long as the target asks (Retry-After) before retrying', async () => {
    const { clock, strategy, feed } = setUp({
      answer: (_key, attempt) => (attempt === 1 ? unavailable(10, { retryAfterMs: 5000 }) : ok()),
    });
    const fed = feed([unit('a')]);
    await clock.advance(20_000);
    await fed;
    const starts = strategy.startsOf('a');
    assert.equal(starts.length, 2);
    assert.ok(starts[1]! - starts[0]! >= 5010, `retried after ${starts[1]! - starts[0]!} ms`);
  });

  it('does not retry what retryOn leaves out, nor a failure that is not transient', async () => {
    const { clock, dispatcher, outcomes, feed } = setUp({
      throttle: { retryOn: ['5xx'] },
      answer: (key) =>
        key === 'throttled'
          ? unavailable(10, { kind: 'http-429', httpStatus: 429 })
          : unavailable(10, { kind: 'http-4xx', httpStatus: 400, retryable: false }),
    });
    const fed = feed([unit('throttled'), unit('bad')]);
    await clock.advance(10_000);
    await fed;
    await dispatcher.drain(1000);
    assert.deepEqual(
      outcomes.sort((a, b) => a.key.localeCompare(b.key)),
      [
        { key: 'bad', status: 'failed', attempts: 1 },
        { key: 'throttled', status: 'failed', attempts: 1 },
      ],
    );
  });

  it('halves its rate when the target signals overload', async () => {
    const { clock, dispatcher, feed } = setUp({
      throttle: { rate: 100, retries: 0 },
      answer: () => unavailable(10, { kind: 'http-429', httpStatus: 429, overload: true }),
    });
    const fed = feed([unit('a')]);
    await clock.advance(100);
    await fed;
    assert.equal(dispatcher.configuredRate, 100);
    assert.equal(dispatcher.effectiveRate, 50);
  });

  it('tells its fleet of an overload it saw, and halves its rate for one another member saw without telling', async () => {
    const { clock, dispatcher, overloads, feed } = setUp({
      throttle: { rate: 100, retries: 0 },
      answer: () => unavailable(10, { kind: 'http-429', httpStatus: 429, overload: true }),
    });
    const fed = feed([unit('a'), unit('b')]);
    await clock.advance(100);
    await fed;
    // Two 429s within a second are one decrease: the fleet is told once.
    assert.equal(overloads.length, 1);
    await clock.advance(1000);
    dispatcher.slowDown();
    assert.equal(dispatcher.effectiveRate, 25);
    assert.equal(overloads.length, 1, 'a slowdown from the fleet is not announced again');
  });

  it('holds back when too many outcomes wait for the disk, and goes on once they are durable', async () => {
    const pending: (() => void)[] = [];
    const { clock, strategy, dispatcher, feed } = setUp({
      throttle: { concurrency: 1 },
      durable: () => new Promise((resolve) => pending.push(resolve)),
    });
    const window = 1 + WINDOW_PER_SLOT;
    const fed = feed(units(window + 5));
    await clock.advance(5000);
    assert.equal(strategy.attempts.length, window, 'no attempt beyond the durability window');
    for (const resolve of pending.splice(0)) resolve();
    await clock.advance(5000);
    for (const resolve of pending.splice(0)) resolve();
    await clock.advance(1000);
    assert.equal(await fed, true);
    await dispatcher.drain(1000);
    assert.equal(strategy.attempts.length, window + 5);
  });

  it('sends nothing while paused and carries on when resumed', async () => {
    const { clock, strategy, dispatcher, feed } = setUp({ throttle: { rate: 10 } });
    const fed = feed(units(20));
    await clock.advance(500);
    dispatcher.pause();
    assert.equal(dispatcher.state, 'paused');
    // A unit already waiting for its rate permit when the pause came is sent once it has it.
    await clock.advance(100);
    const before = strategy.attempts.length;
    await clock.advance(5000);
    assert.equal(strategy.attempts.length, before);
    dispatcher.resume();
    assert.equal(dispatcher.state, 'running');
    await clock.advance(5000);
    assert.equal(await fed, true);
    assert.equal(strategy.attempts.length, 20);
  });

  it('stops at once: hands over nothing more, gives no outcome to retries still waiting', async () => {
    const { clock, dispatcher, outcomes, stops, feed } = setUp({
      throttle: { rate: 10 },
      answer: (key) => (key === '1' ? unavailable() : ok()),
    });
    const fed = feed(units(20));
    await clock.advance(50);
    assert.equal(dispatcher.stop('stopped by test'), true);
    assert.equal(dispatcher.stop('again'), false, 'a second stop changes nothing');
    assert.equal(await fed, false);
    await dispatcher.drain(1000);
    assert.deepEqual(stops, ['stopped by test']);
    assert.equal(dispatcher.state, 'stopping');
    assert.equal(dispatcher.stopReason, 'stopped by test');
    assert.deepEqual(outcomes, [], 'record 1 was waiting for its retry: it has no outcome');
    assert.equal(dispatcher.trySend([unit('late')]), false);
  });

  it('gives attempts under way the grace period after a stop, then aborts them without an outcome', async () => {
    const { clock, dispatcher, outcomes, feed } = setUp({
      answer: (key) => (key === 'slow' ? ok(60_000) : ok(100)),
    });
    await feed([unit('slow'), unit('quick')]);
    dispatcher.stop('stopped by test');
    let drained = false;
    const draining = dispatcher.drain(2000).then(() => (drained = true));
    await clock.advance(1000);
    assert.deepEqual(
      outcomes.map((o) => o.key),
      ['quick'],
    );
    assert.equal(drained, false, 'still within the grace period');
    await clock.advance(1500);
    await draining;
    assert.deepEqual(
      outcomes.map((o) => o.key),
      ['quick'],
      'the aborted attempt has no outcome: a resume sends it again',
    );
    assert.equal(clock.pendingTimers, 0, 'no timer left behind');
  });

  it('stops sending after an attempt throws, and reports that failure', async () => {
    const { clock, strategy, dispatcher, feed } = setUp({ throttle: { concurrency: 1 } });
    strategy.attempt = () => Promise.reject(new Error('bug in an executor'));
    const fed = feed(units(5)).then(
      () => undefined,
      (error: unknown) => error,
    );
    await clock.advance(1000);
    assert.match(String(await fed), /bug in an executor/);
    await dispatcher.drain(1000);
    assert.throws(() => dispatcher.throwIfFailed(), /bug in an executor/);
    assert.equal(dispatcher.trySend([unit('late')]), false);
  });
});
