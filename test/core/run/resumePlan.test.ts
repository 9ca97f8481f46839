import { strict as assert } from 'node:assert';
import type { StatusCounts } from '../../../src/core/ledger/ledger';
import {
  chooseChain,
  describeRunPlan,
  expectedTotal,
  idempotencyScope,
  rerunOfGaps,
  rerunOfKeys,
  withoutStatuses,
  rerunQuery,
  type LatestRun,
  type ResumePlan,
  type ResumeRequest,
} from '../../../src/core/run/resumePlan';
import { zeroCounts } from '../../../src/core/run/statusCounts';
import type { RunOutcome } from '../../../src/core/model/runs';
import { UserError } from '../../../src/core/model/types';

const FINGERPRINT = 'fp-1';

function request(partial: Partial<ResumeRequest> = {}): ResumeRequest {
  return {
    cell: 'full',
    runbookFile: 'orders.backfill',
    kind: 'execute',
    failureStatus: 'failed',
    ...partial,
  };
}

function latest(outcome: RunOutcome, fingerprint = FINGERPRINT): LatestRun {
  return { id: 'run-1', chain: 'chain-1', outcome, fingerprint };
}

function choose(req: Partial<ResumeRequest>, last: LatestRun | undefined) {
  return chooseChain(request(req), last, FINGERPRINT, () => 'new-chain');
}

function counts(partial: Partial<StatusCounts>): StatusCounts {
  return { ...zeroCounts(), ...partial };
}

describe('resume plan', () => {
  describe('choosing the chain', () => {
    it('starts a new chain for the first run of a cell', () => {
      assert.deepEqual(choose({}, undefined), { id: 'new-chain', resumed: false });
    });

    for (const outcome of ['halted', 'crashed', 'running'] as const) {
      it(`resumes the latest chain when its run ${outcome === 'running' ? 'is still marked running' : outcome}`, () => {
        assert.deepEqual(choose({}, latest(outcome)), { id: 'chain-1', resumed: true });
      });
    }

    for (const outcome of ['succeeded', 'below-threshold'] as const) {
      it(`refuses to run a cell again whose latest run ${outcome}, naming the ways out`, () => {
        assert.throws(
          () => choose({}, latest(outcome)),
          (error: unknown) =>
            error instanceof UserError &&
            /cell full already finished in run run-1/.test(error.message) &&
            /--only failed/.test(error.message) &&
            /--restart/.test(error.message),
        );
      });
    }

    it("judges a finished chain again, sending nothing, when the cell's thresholds changed since", () => {
      const failures = [{ reason: 'HTTP 404', count: 1, key: 'k3' }];
      const firstFailed = [{ key: 'k3', reason: 'HTTP 404' }];
      const judged = {
        ...latest('below-threshold'),
        params: JSON.stringify({ successThreshold: 0.9999 }),
        counts: JSON.stringify({ succeeded: 9, failed: 1, failures, firstFailed }),
      };
      assert.deepEqual(choose({ thresholds: { successThreshold: 0.99 } }, judged), {
        id: 'chain-1',
        resumed: true,
        rejudge: { run: 'run-1', outcome: 'below-threshold', changed: 'successThreshold 0.99 (was 0.9999)' },
        judgedFailures: { failures, firstFailed },
      });
      assert.throws(() => choose({ thresholds: { successThreshold: 0.9999 } }, judged), /already finished/);
      const withLimit = { thresholds: { successThreshold: 0.9999, maxRejected: 5 } };
      assert.equal(choose(withLimit, judged).rejudge?.changed, 'maxRejected 5 (was none)');
    });

    it('starts over with --restart, whatever the latest run', () => {
      assert.deepEqual(choose({ restart: true }, latest('halted')), { id: 'new-chain', resumed: false });
      assert.deepEqual(choose({ restart: true }, latest('succeeded')), { id: 'new-chain', resumed: false });
    });

    it('continues a finished chain for --only failed and --only unverified', () => {
      assert.deepEqual(choose({ onlyFailed: true }, latest('below-threshold')), {
        id: 'chain-1',
        resumed: true,
      });
      assert.deepEqual(choose({ onlyUnverified: true }, latest('succeeded')), {
        id: 'chain-1',
        resumed: true,
      });
    });

    it('verifies a finished verification again in a new chain', () => {
      assert.deepEqual(choose({ kind: 'verify' }, latest('succeeded')), { id: 'new-chain', resumed: false });
    });

    it('starts a new chain when the job changed since a finished run', () => {
      assert.deepEqual(choose({}, latest('succeeded', 'fp-old')), { id: 'new-chain', resumed: false });
    });

    it('refuses to resume, or re-run part of, a chain whose job or data changed', () => {
      assert.throws(
        () => choose({}, latest('halted', 'fp-old')),
        /changed since run run-1.*dry-run it again/,
      );
      assert.throws(() => choose({ onlyFailed: true }, latest('succeeded', 'fp-old')), /--restart/);
      assert.throws(() => choose({ kind: 'verify' }, latest('halted', 'fp-old')), /verify again/);
    });

    it('refuses to re-check the gaps of a verification that never finished', () => {
      assert.throws(
        () => choose({ kind: 'verify', onlyUnverified: true }, latest('halted')),
        /verification run run-1 of cell full is halted: finish it first with backfill run orders.backfill --cell full/,
      );
    });
  });

  describe('choosing the records of a re-run', () => {
    it('asks for nothing on a whole run', () => {
      assert.equal(rerunQuery(request()), undefined);
    });

    it('selects the failure status for --only failed', () => {
      assert.deepEqual(rerunQuery(request({ onlyFailed: true })), { only: 'failed', statuses: ['failed'] });
      assert.deepEqual(rerunQuery(request({ onlyFailed: true, kind: 'verify', failureStatus: 'error' })), {
        only: 'failed',
        statuses: ['error'],
      });
    });

    it('selects the unverified statuses of a verification, and the gaps for an execution', () => {
      assert.deepEqual(rerunQuery(request({ onlyUnverified: true, kind: 'verify' })), {
        only: 'unverified',
        statuses: ['mismatch', 'missing', 'error'],
      });
      assert.deepEqual(rerunQuery(request({ onlyUnverified: true })), { only: 'unverified', gaps: true });
    });

    it('refuses a re-run with nothing to re-run', () => {
      assert.throws(() => rerunOfKeys(request(), 'failed', new Set()), /no failed records .* cell full/);
      assert.throws(
        () => rerunOfKeys(request({ kind: 'verify' }), 'unverified', new Set()),
        /every record the latest verification of cell full checked is verified/,
      );
    });

    it('keeps the keys of a re-run and which verification found the gaps', () => {
      assert.deepEqual(rerunOfKeys(request(), 'failed', new Set(['a', 'b'])), {
        only: 'failed',
        records: 2,
        keys: new Set(['a', 'b']),
      });
      assert.deepEqual(rerunOfGaps({ keys: new Set(['c']), verification: { id: 'v-1' } }), {
        only: 'unverified',
        records: 1,
        keys: new Set(['c']),
        verification: 'v-1',
      });
    });
  });

  it("leaves the re-run records' current outcomes out of the chain's earlier counts", () => {
    const chain = counts({ succeeded: 5, failed: 3, error: 2 });
    assert.deepEqual(withoutStatuses(chain, ['failed', 'error']), counts({ succeeded: 5 }));
    assert.deepEqual(
      chain,
      counts({ succeeded: 5, failed: 3, error: 2 }),
      'the ledger view is left as it was',
    );
  });

  describe('the expected total', () => {
    const fingerprint = { combined: FINGERPRINT, subset: 'sub-1' };
    const report = (selected: number, rejected: number, subset = 'sub-1') =>
      JSON.stringify({ counts: { selected, rejected }, fingerprint: { subset } });

    it('comes from a passing dry run of the same job, data and subset, malformed rows included', () => {
      const dryRuns = [
        { passed: false, fingerprint: FINGERPRINT, report: report(1, 0) },
        { passed: true, fingerprint: 'fp-other', report: report(2, 0) },
        { passed: true, fingerprint: FINGERPRINT, report: report(3, 0, 'sub-other') },
        { passed: true, fingerprint: FINGERPRINT, report: 'not json' },
        { passed: true, fingerprint: FINGERPRINT, report: report(100, 5) },
      ];
      assert.equal(expectedTotal(dryRuns, fingerprint, false), 105);
      assert.equal(expectedTotal(dryRuns, fingerprint, true), 100, 'a subset selects valid records only');
    });

    it('is unknown without such a dry run', () => {
      assert.equal(expectedTotal([], fingerprint, false), undefined);
    });
  });

  it("derives a gap re-backfill's idempotency keys from the verification that found the gaps", () => {
    assert.equal(idempotencyScope(FINGERPRINT, undefined), FINGERPRINT);
    assert.equal(
      idempotencyScope(FINGERPRINT, {
        only: 'unverified',
        records: 1,
        keys: new Set(['a']),
        verification: 'v-1',
      }),
      `${FINGERPRINT}:v-1`,
    );
  });

  it('announces what is already done and how long the rest takes', () => {
    const plan: ResumePlan = {
      chain: { id: 'chain-1', resumed: true },
      doneKeys: new Set(['a', 'b', 'c', 'd']),
      delivered: [],
      doneElsewhere: {},
      earlier: counts({ succeeded: 4 }),
    };
    const announced = describeRunPlan({
      run: 'run-2',
      kind: 'execute',
      target: 'POST http://x',
      fingerprint: FINGERPRINT,
      throttle: { rate: 2, concurrency: 4 },
      plan,
      total: 24,
    });
    assert.deepEqual(announced, {
      run: 'run-2',
      chain: 'chain-1',
      resumed: true,
      kind: 'execute',
      target: 'POST http://x',
      total: 24,
      alreadyDone: 4,
      rate: 2,
      concurrency: 4,
      estimatedSeconds: 10,
      fingerprint: FINGERPRINT,
    });
  });
});
