import { strict as assert } from 'node:assert';
import { progressModel } from '../../media/renderer/progressModel';
import type { RunStatus } from '../../src/core/run/runStatus';
import { runStatus, STARTED } from './payloadFixtures';

const NOW = new Date(STARTED + 121_000);

describe('renderer progress model', () => {
  it('states done of total with its share and the ETA', () => {
    const model = progressModel(runStatus(), NOW);
    assert.equal(model.headline, '12,345 of 50,000 records to process · 24.7 %');
    assert.equal(model.eta, 'ETA 13 min 03 s');
    assert.equal(model.percent?.toFixed(2), '24.69');
    assert.equal(model.stateLabel, 'Running');
  });

  it('says when the runner has shown no sign of life for a while, instead of when it last wrote', () => {
    assert.match(progressModel(runStatus(), NOW).updated, /^updated /);
    const silent = progressModel(runStatus(), new Date(STARTED + 132_000));
    assert.equal(silent.updated, 'no sign of life for 12 s');
    // STARTED + 120 s is when the status was written; a long silence reads in days, not seconds.
    const at = (seconds: number) => progressModel(runStatus(), new Date(STARTED + 120_000 + seconds * 1000));
    assert.equal(at(600).updated, 'no sign of life for 10 min');
    assert.equal(at(12_000).updated, 'no sign of life for 3 h 20 min');
    assert.equal(at(872_068).updated, 'no sign of life for 10 days');
  });

  it('says which cell delivered the records the run skips, in view and on the Skipped figure', () => {
    const model = progressModel(runStatus({ skipped: 12, doneElsewhere: { 'small-batch': 10 } }), NOW);
    assert.equal(model.doneElsewhere, '10 skipped: done by small-batch');
    const skipped = model.recordStats.find((stat) => stat.id === 'skipped');
    assert.equal(skipped?.value, '12');
    assert.match(skipped?.title ?? '', /10 skipped: done by small-batch/);
    assert.equal(
      progressModel(runStatus(), NOW).doneElsewhere,
      '',
      'nothing said when no other cell delivered any',
    );
  });

  it('splits the bar by outcome over the total', () => {
    const { segments } = progressModel(
      runStatus({ total: 1000, succeeded: 500, failed: 100, rejected: 50, skipped: 50 }),
    );
    assert.deepEqual(segments, { succeeded: 0.5, failed: 0.1, rejected: 0.05, skipped: 0.05 });
  });

  it('never lets the bar overflow when outcomes outnumber an old total', () => {
    const { segments } = progressModel(
      runStatus({ total: 100, succeeded: 150, failed: 50, rejected: 0, skipped: 0 }),
    );
    assert.equal(segments.succeeded + segments.failed, 1);
  });

  it('shows what is done without a goal when the total is unknown', () => {
    const model = progressModel(runStatus({ total: undefined, done: 777 }));
    assert.equal(model.determinate, false);
    assert.equal(model.percent, undefined);
    assert.equal(model.headline, '777 records done');
  });

  it('gives every figure an operator watches', () => {
    const model = progressModel(runStatus());
    const stats = Object.fromEntries(
      [...model.recordStats, ...model.speedStats].map((stat) => [stat.id, stat.value]),
    );
    assert.deepEqual(stats, {
      succeeded: '12,100',
      failed: '180',
      rejected: '40',
      skipped: '25',
      'in-flight': '4',
      rate: '48.2/s',
      average: '45.1/s',
      limit: '50/s',
      p50: '84 ms',
      p95: '310 ms',
    });
  });

  it('counts against the records selected to send, as the confirmation does: no malformed rows, delivered ones done', () => {
    // 500 rows: 3 malformed, 497 selected; 10 delivered before by another cell, 480 sent so far.
    const status = runStatus({
      total: 490,
      selected: 497,
      done: 483,
      rejected: 3,
      doneElsewhere: { 'small-batch': 10 },
    });
    assert.equal(progressModel(status, NOW).headline, '490 of 497 selected records · 98.6 %');
    const finished = runStatus({ state: 'finished', total: 500, selected: 497, done: 500, rejected: 3 });
    assert.equal(progressModel(finished, NOW).headline, '497 of 497 selected records · 100 %');
  });

  it('says when the runner slowed below the configured rate', () => {
    const limit = progressModel(
      runStatus({ rate: { now: 20, average: 30, configured: 50, effective: 20 } }),
    ).speedStats.find((stat) => stat.id === 'limit');
    assert.equal(limit?.label, 'Slowed from 50/s');
    assert.equal(limit?.value, '20/s');
    assert.equal(limit?.tone, 'warning');
  });

  it('explains a halt with its reason, in red', () => {
    const model = progressModel(
      runStatus({ state: 'halted', reason: 'error budget exhausted: 5.2 % failed' }),
    );
    assert.deepEqual(model.banner, {
      tone: 'danger',
      text: 'Halted: error budget exhausted: 5.2 % failed. Nothing is lost: use Execute… on the cell again to resume where it stopped.',
    });
    assert.equal(model.stateTone, 'danger');
    assert.equal(model.eta, 'took 2 min 00 s');
  });

  it('names the action that resumes a halted run, not ▶ (a dry run), for each mode', () => {
    const halted = (mode: RunStatus['mode']) =>
      progressModel(runStatus({ state: 'halted', mode, reason: 'stopped' })).banner?.text ?? '';
    assert.match(halted('production'), /use Run in Production… on the cell again to resume/);
    assert.match(halted('execute'), /use Execute… on the cell again to resume/);
    assert.match(halted('verify'), /run the verify cell \(▶\) again to resume/);
  });

  it('shows no rate now when nothing is sent: paused, halted or finished', () => {
    for (const state of ['paused', 'halted', 'finished'] as const) {
      const model = progressModel(runStatus({ state }));
      assert.equal(model.speedStats.find((s) => s.id === 'rate')?.value, '—', state);
      assert.ok(!model.speedStats.some((s) => s.label.startsWith('Slowed')), state);
    }
    assert.notEqual(progressModel(runStatus()).speedStats.find((s) => s.id === 'rate')?.value, '—');
  });

  it('counts a verification as verified, mismatch, missing and not checked', () => {
    const model = progressModel(
      runStatus({
        mode: 'verify',
        inFlight: 0,
        verification: { verified: 488, mismatch: 9, missing: 0, error: 1 },
      }),
    );
    assert.deepEqual(
      model.recordStats.map((s) => [s.label, s.value]),
      [
        ['Verified', '488'],
        ['Mismatch', '9'],
        ['Missing', '0'],
        ['Not checked', '1'],
        ['In flight', '0'],
      ],
    );
  });

  it('shows paused, stopping and ledger-waiting runs with what happens next', () => {
    assert.equal(progressModel(runStatus({ state: 'paused' })).banner?.text, 'Paused: resume to continue');
    assert.deepEqual(
      progressModel(runStatus({ waiting: 'for the ledger: reconnecting (unreachable for 12 s)' })).banner,
      {
        tone: 'warning',
        text: 'Waiting for the ledger: reconnecting (unreachable for 12 s): nothing is sent meanwhile',
      },
    );
    assert.equal(progressModel(runStatus({ state: 'paused' })).eta, 'ETA: paused');
    assert.equal(
      progressModel(runStatus({ state: 'stopping', inFlight: 3 })).banner?.text,
      'Stopping: finishing 3 in flight',
    );
  });

  it('marks a verification that reads a production environment as production', () => {
    const model = progressModel(runStatus({ mode: 'verify', production: true, environment: 'production' }));
    assert.equal(model.production, true);
    assert.equal(model.mode, 'verify · PRODUCTION');
    assert.equal(progressModel(runStatus({ mode: 'verify' })).production, false);
  });

  it('marks a production run unmistakably', () => {
    const model = progressModel(runStatus({ mode: 'production', environment: 'production' }));
    assert.equal(model.mode, 'PRODUCTION');
    assert.equal(model.production, true);
  });

  it('counts errors by kind for the errors panel', () => {
    const model = progressModel(runStatus());
    assert.equal(model.errorTotal, 180);
    assert.deepEqual(
      model.errors.map((row) => row.kind),
      ['http-5xx', 'timeout', 'http-429'],
    );
  });

  it('adds no banner to a plain success but explains a run below its threshold', () => {
    assert.equal(progressModel(runStatus({ state: 'finished', outcome: 'succeeded' })).banner, undefined);
    assert.deepEqual(progressModel(runStatus({ state: 'finished', outcome: 'below-threshold' })).banner, {
      tone: 'danger',
      text: 'Finished: below-threshold',
    });
  });

  it('colours a finished run by its outcome', () => {
    assert.equal(
      progressModel(runStatus({ state: 'finished', failed: 0, outcome: 'succeeded' })).stateTone,
      'success',
    );
    assert.equal(progressModel(runStatus({ state: 'finished', outcome: 'failed' })).stateTone, 'danger');
  });
});
