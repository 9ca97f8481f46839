import { strict as assert } from 'node:assert';
import { awaitRun, openWhenReachable, runToJoin } from '../../../src/core/fleet/workerStart';
import type { RunRecord } from '../../../src/core/model/runs';
import { UserError } from '../../../src/core/model/types';

/** A clock that moves only when the code under test sleeps. */
function fakeTime() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

/** What connectClient throws when nothing listens: a UserError whose cause has the socket's code. */
function refused(): UserError {
  return Object.assign(new UserError('cannot connect to PostgreSQL at db:5432: connect ECONNREFUSED'), {
    cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  });
}

function run(id: string, outcome: RunRecord['outcome'], endedAt?: string): RunRecord {
  return {
    id,
    chain: 'c',
    cell: 'full',
    job: 'j',
    mode: 'execute',
    environment: 'prod',
    operator: 'o',
    host: 'h',
    pid: 1,
    startedAt: '2026-12-07T00:00:00.000Z',
    fingerprint: 'f',
    params: '{}',
    outcome,
    ...(endedAt ? { endedAt } : {}),
  };
}

const SETTING = 'environments.prod.ledger.outageSeconds';

describe('workerStart: what a worker waits for at its start', () => {
  describe('openWhenReachable', () => {
    it('retries with doubling backoff while the database refuses connections, says so once, and returns what opened', async () => {
      const time = fakeTime();
      const said: string[] = [];
      let tries = 0;
      const opened = await openWhenReachable(
        async () => {
          tries += 1;
          if (tries < 5) throw refused();
          return 'ledger';
        },
        { allowanceMs: 60_000, setting: SETTING, say: (m) => said.push(m), ...time },
      );
      assert.equal(opened, 'ledger');
      assert.deepEqual(time.sleeps, [250, 500, 1000, 2000]);
      assert.equal(said.length, 1);
      assert.match(
        said[0]!,
        /waiting for the ledger's database \(cannot connect .*ECONNREFUSED\): retrying for up to 60 s \(environments\.prod\.ledger\.outageSeconds\)/,
      );
    });

    it('gives up once the allowance has passed, never sleeping past it, with a message naming the setting', async () => {
      const time = fakeTime();
      const start = time.now();
      await assert.rejects(
        openWhenReachable(() => Promise.reject(refused()), {
          allowanceMs: 3000,
          setting: SETTING,
          say: () => undefined,
          ...time,
        }),
        (error: unknown) =>
          error instanceof UserError &&
          /could not be reached within 3 s of this worker's start, as long as environments\.prod\.ledger\.outageSeconds lets it wait \(cannot connect .*\): .* raise environments\.prod\.ledger\.outageSeconds/.test(
            error.message,
          ),
      );
      assert.equal(time.now() - start, 3000);
      assert.deepEqual(time.sleeps, [250, 500, 1000, 1250]);
    });

    it('throws any failure other than an unreachable database at once, without waiting', async () => {
      const time = fakeTime();
      const said: string[] = [];
      const wrongPassword = Object.assign(new UserError('password authentication failed'), {
        cause: Object.assign(new Error('password authentication failed'), { code: '28P01' }),
      });
      await assert.rejects(
        openWhenReachable(() => Promise.reject(wrongPassword), {
          allowanceMs: 60_000,
          setting: SETTING,
          say: (m) => said.push(m),
          ...time,
        }),
        /password authentication failed/,
      );
      assert.deepEqual(time.sleeps, []);
      assert.deepEqual(said, []);
    });

    it('with an allowance of 0 fails at the first refusal and says no wait', async () => {
      const said: string[] = [];
      await assert.rejects(
        openWhenReachable(() => Promise.reject(refused()), {
          allowanceMs: 0,
          setting: SETTING,
          say: (m) => said.push(m),
          ...fakeTime(),
        }),
        /within 0 s/,
      );
      assert.deepEqual(said, []);
    });

    it('ends the wait without an answer when the worker is told to leave', async () => {
      const leave = new AbortController();
      const opened = await openWhenReachable(() => Promise.reject(refused()), {
        allowanceMs: 60_000,
        setting: SETTING,
        say: () => undefined,
        signal: leave.signal,
        now: () => 0,
        sleep: async () => leave.abort(),
      });
      assert.equal(opened, undefined);
    });
  });

  describe('runToJoin', () => {
    const since = Date.parse('2026-12-07T00:00:10.000Z');

    it('joins the live run', () => {
      const live = run('b', 'running');
      assert.deepEqual(runToJoin([run('a', 'succeeded', '2026-12-07T00:00:20.000Z'), live], since), { live });
    });

    it('reports a run that ended after the worker started: it missed it', () => {
      const ended = run('a', 'succeeded', '2026-12-07T00:00:10.000Z');
      assert.deepEqual(runToJoin([ended], since), { ended });
    });

    it('waits when the only runs ended before the worker started (earlier runs)', () => {
      assert.equal(
        runToJoin([run('a', 'succeeded', '2026-12-07T00:00:09.999Z'), run('b', 'halted')], since),
        undefined,
      );
      assert.equal(runToJoin([], since), undefined);
    });
  });

  describe('awaitRun', () => {
    const base = { since: 0, waiting: 'waiting for the run', missing: 'no live run', pollMs: 500 };

    it('looks again every poll until the run is created, saying once that it waits', async () => {
      const time = fakeTime();
      const said: string[] = [];
      const live = run('r', 'running');
      let reads = 0;
      const found = await awaitRun(async () => ((reads += 1) < 4 ? [] : [live]), {
        ...base,
        allowanceMs: 10_000,
        say: (m) => said.push(m),
        ...time,
      });
      assert.deepEqual(found, { live });
      assert.deepEqual(time.sleeps, [500, 500, 500]);
      assert.deepEqual(said, ['waiting for the run']);
    });

    it('gives up after the allowance with the missing message, never sleeping past it', async () => {
      const time = fakeTime();
      await assert.rejects(
        awaitRun(async () => [], { ...base, allowanceMs: 1200, say: () => undefined, ...time }),
        (error: unknown) => error instanceof UserError && error.message === 'no live run',
      );
      assert.deepEqual(time.sleeps, [500, 500, 200]);
    });

    it('with an allowance of 0 looks once and says nothing of waiting', async () => {
      const said: string[] = [];
      await assert.rejects(
        awaitRun(async () => [], { ...base, allowanceMs: 0, say: (m) => said.push(m), ...fakeTime() }),
        /no live run/,
      );
      assert.deepEqual(said, []);
    });
  });
});
