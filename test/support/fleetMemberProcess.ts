/**
 * A second member of a fleet for the fleet tests, until `backfill worker` exists: it joins run RUN of the
 * fixture's PostgreSQL ledger through the same seam a worker uses (joinLiveFleet), and POSTs to
 * TARGET/member/N at its share of the fleet's rate, obeying the fleet's pause, resume, rate and stop.
 *
 * Usage: node --import tsx fleetMemberProcess.ts RUN TARGET RATE CONCURRENCY (env LEDGER_URL).
 * Prints "joined ID" once a member, "rate R" at each share it applies; exits 0 once stopped.
 */
import { realClock } from '../../src/core/run/clock';
import { joinLiveFleet, type FleetControllable } from '../../src/core/run/liveFleet';
import { RateLimiter } from '../../src/core/run/rateLimiter';

const [run, target, rate, concurrency] = process.argv.slice(2);
const limiter = new RateLimiter(Number(rate), realClock);
const stopped = new AbortController();
let paused = false;
let sent = 0;
let wakeFromPause: (() => void) | undefined;

const dispatcher: FleetControllable = {
  get stopping() {
    return stopped.signal.aborted;
  },
  stop: () => {
    stopped.abort();
    wakeFromPause?.();
  },
  pause: () => {
    paused = true;
  },
  resume: () => {
    paused = false;
    wakeFromPause?.();
  },
  setRate: (share) => {
    if (share !== limiter.rate) process.stdout.write(`rate ${share}\n`);
    limiter.setRate(share);
  },
  setShare: (share) => {
    if (share !== limiter.rate) process.stdout.write(`rate ${share}\n`);
    limiter.reshare(share);
  },
  setConcurrency: () => undefined,
  slowDown: () => undefined,
};

async function main(): Promise<void> {
  const member = await joinLiveFleet({
    place: { url: process.env.LEDGER_URL!, name: 'fixture-job' },
    run: run!,
    fresh: false,
    dispatcher,
    throttle: { rate: Number(rate), concurrency: Number(concurrency) },
    figures: () => ({ rate: 0, sent }),
    onApplied: () => undefined,
  });
  process.stdout.write(`joined ${member.id}\n`);
  while (!stopped.signal.aborted) {
    if (paused) {
      await new Promise<void>((resolve) => (wakeFromPause = resolve));
      continue;
    }
    try {
      await limiter.acquire(1, stopped.signal);
    } catch {
      break;
    }
    if (paused || stopped.signal.aborted) continue;
    sent += 1;
    void fetch(`${target}/member/m${sent}`, { method: 'POST', body: '{}' }).catch(() => undefined);
  }
  await member.leave('stopped');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
