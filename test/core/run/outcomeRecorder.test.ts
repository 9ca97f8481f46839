import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openLedger, openLedgerForRun } from '../../../src/core/ledger/openLedger';
import { IsoClock, newRunRecord, OutcomeRecorder } from '../../../src/core/run/outcomeRecorder';
import type { AttemptResult } from '../../../src/core/model/runs';
import { Redactor, SecretResolver } from '../../../src/core/secrets/secrets';

const SECRET = 'hunter2-very-secret';

function redactor(): Redactor {
  const secrets = new SecretResolver({ TOKEN: SECRET });
  secrets.resolveAll(['TOKEN']);
  return new Redactor(secrets);
}

function unit(key: string) {
  return { record: { key, line: 7, fields: { id: key } }, idempotencyKey: `idem-${key}` };
}

describe('outcome recorder', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outcome-recorder-'));
    file = path.join(dir, 'orders.backfill');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const journalLines = () =>
    fs
      .readFileSync(path.join(`${file}.d`, 'journal.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean);

  async function started(runId = 'run-1', given?: OutcomeRecorder) {
    const recorder = given ?? (await OutcomeRecorder.open(file, runId));
    const halts: string[] = [];
    const run = newRunRecord({
      id: runId,
      chain: 'chain-1',
      job: {
        cell: 'full',
        job: 'orders',
        throttle: { rate: 1, concurrency: 1, batchSize: 1, timeoutMs: 1, retries: 0, retryOn: [] },
        errorBudget: { maxFailureRatio: 1, window: 100, maxConsecutiveFailures: 10 },
      },
      mode: 'execute',
      environment: { name: 'staging', vars: { TOKEN_COPY: SECRET } },
      operator: 'ada',
      startedAt: '2026-12-05T00:00:00.000Z',
      fingerprint: 'fp',
      redactor: redactor(),
    });
    await recorder.start(run, redactor(), (reason) => halts.push(reason));
    return { recorder, halts, run };
  }

  it('keeps no secret in the run record it starts', async () => {
    const { recorder, run } = await started();
    try {
      assert.doesNotMatch(run.params, new RegExp(SECRET));
      assert.match(run.params, /\[redacted:TOKEN\]/);
      assert.equal((await recorder.ledger.latestRun('full'))?.outcome, 'running');
    } finally {
      await recorder.close();
    }
  });

  it("records outcomes in the journal and folds them into the ledger at the run's end", async () => {
    const { recorder } = await started();
    const failed: AttemptResult = {
      ok: false,
      durationMs: 3,
      kind: 'http-5xx',
      retryable: true,
      overload: false,
      httpStatus: 503,
      message: `token ${SECRET} refused`,
    };
    try {
      assert.equal(recorder.recordAttempt(unit('a'), 'succeeded', 1, { ok: true, durationMs: 2 }), true);
      assert.equal(recorder.recordAttempt(unit('b'), 'failed', 4, failed), true);
      assert.equal(recorder.recordRejected('c', 9, `bad ${SECRET}`), true);
      await recorder.flush();
      assert.equal(
        await recorder.ledger.outcomeOf('chain-1', 'a'),
        undefined,
        'in the journal only until the end',
      );
      assert.equal(
        await recorder.finish('below-threshold', 'too many failures', '{}', '2026-12-05T01:00:00.000Z'),
        true,
      );
      const b = (await recorder.ledger.outcomeOf('chain-1', 'b'))!;
      assert.equal(b.status, 'failed');
      assert.equal(b.attempts, 4);
      assert.equal(b.httpStatus, 503);
      assert.equal(b.idempotencyKey, 'idem-b');
      assert.equal(b.errorKind, 'http-5xx');
      assert.equal(b.lastError, 'token [redacted:TOKEN] refused');
      const c = (await recorder.ledger.outcomeOf('chain-1', 'c'))!;
      assert.deepEqual([c.status, c.line, c.lastError], ['rejected', 9, 'bad [redacted:TOKEN]']);
      assert.equal((await recorder.ledger.outcomeOf('chain-1', 'a'))?.status, 'succeeded');
      assert.equal((await recorder.ledger.latestRun('full'))?.outcome, 'below-threshold');
      assert.ok(await recorder.resultBlock('full', 'run-1'), 'an ended run has a result block');
    } finally {
      await recorder.close();
    }
    const reopened = await openLedger(file);
    try {
      assert.deepEqual((await reopened.countByStatus('chain-1')).succeeded, 1, 'the fold was saved to disk');
    } finally {
      await reopened.close();
    }
  });

  it('stores what a check found, redacted and cut short', async () => {
    const { recorder } = await started();
    try {
      recorder.recordAttempt(unit('m'), 'mismatch', 1, {
        ok: true,
        durationMs: 1,
        verdict: {
          status: 'mismatch',
          detail: 'amount differs',
          expected: { note: 'x'.repeat(5000) },
          actual: SECRET,
        },
      });
      await recorder.finish('succeeded', undefined, '{}', '2026-12-05T01:00:00.000Z');
      const m = (await recorder.ledger.outcomeOf('chain-1', 'm'))!;
      assert.equal(m.lastError, 'amount differs');
      assert.equal(m.expected!.length, 2000);
      assert.ok(m.expected!.endsWith('…'));
      assert.equal(m.actual, '"[redacted:TOKEN]"');
    } finally {
      await recorder.close();
    }
  });

  it('marks runs left running by a dead process as crashed when it opens', async () => {
    const first = await started('run-1');
    await first.recorder.close();
    const second = await OutcomeRecorder.open(file, 'run-2');
    try {
      assert.equal((await second.ledger.runs('full')).find((r) => r.id === 'run-1')?.outcome, 'crashed');
    } finally {
      await second.close();
    }
  });

  it('halts the run once, and records nothing more, when the state folder refuses a write', async () => {
    const { recorder, halts } = await started();
    try {
      recorder.fail(new Error('EROFS: read-only file system: the run must stop; whatever'));
      recorder.fail(new Error('a second failure'));
      assert.equal(recorder.failed, true);
      assert.equal(halts.length, 1);
      assert.match(
        halts[0]!,
        /could not write to the state folder .*: EROFS: read-only file system; nothing more/,
      );
      assert.equal(recorder.recordAttempt(unit('a'), 'succeeded', 1, { ok: true, durationMs: 1 }), false);
      assert.equal(recorder.recordRejected('b', 1, 'x'), false);
    } finally {
      await recorder.close();
    }
  });

  it('holds the run back while its journal holds more unfolded outcomes than allowed, until the fold ends', async () => {
    const { ledger, journal } = await openLedgerForRun(file);
    // The journal as it is, except that its fold waits for the test.
    let releaseFold!: () => void;
    let folds = 0;
    const held: typeof journal = {
      durabilityWindowPerSlot: journal.durabilityWindowPerSlot,
      append: (entry) => journal.append(entry),
      flush: () => journal.flush(),
      checkpoint: async () => {
        folds += 1;
        await new Promise<void>((resolve) => (releaseFold = resolve));
        await journal.checkpoint();
      },
      close: () => journal.close(),
    };
    const recorder = OutcomeRecorder.over(ledger, held, { foldEveryOutcomes: 2, mostUnfolded: 4 });
    const { run } = await started('run-held', recorder);
    try {
      const ok = { ok: true as const, durationMs: 1 };
      recorder.recordAttempt(unit('a'), 'succeeded', 1, ok);
      recorder.recordAttempt(unit('b'), 'succeeded', 1, ok);
      await recorder.durable();
      assert.equal(folds, 1, 'two outcomes make a fold due');
      for (const key of ['c', 'd', 'e']) recorder.recordAttempt(unit(key), 'succeeded', 1, ok);
      let durable = false;
      const waiting = recorder.durable().then(() => (durable = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(durable, false, 'five outcomes unfolded, four allowed: the run waits for the fold');
      assert.equal(journalLines().length, 6, 'the outcomes are written meanwhile (the run start and five)');
      releaseFold();
      await waiting;
      assert.equal((await ledger.runs('full')).find((r) => r.id === run.id)?.outcome, 'running');
    } finally {
      releaseFold?.();
      await recorder.close();
    }
  });
});

describe('the time outcomes are stamped with', () => {
  it('is the ISO 8601 text of the current millisecond, the same text within one', () => {
    const clock = new IsoClock();
    const before = Date.now();
    const first = clock.now();
    const second = clock.now();
    const after = Date.now();
    const at = Date.parse(first);
    assert.ok(at >= before && at <= after, `${first} is not between ${before} and ${after}`);
    assert.equal(new Date(at).toISOString(), first);
    if (Date.parse(second) === at) assert.equal(second, first);
    else assert.ok(Date.parse(second) > at);
  });
});
