import { strict as assert } from 'node:assert';
import { rejudgeChange } from '../../../src/core/run/thresholds';

const ran = (thresholds: object | undefined) => ({
  params: JSON.stringify({ environment: 'test', ...(thresholds ?? {}) }),
});

describe('judging a finished run again', () => {
  it('names what changed when the thresholds differ from those the run recorded', () => {
    assert.equal(
      rejudgeChange(ran({ successThreshold: 0.9999 }), { successThreshold: 0.9 }),
      'successThreshold 0.9 (was 0.9999)',
    );
    assert.equal(
      rejudgeChange(ran({ successThreshold: 0.9, maxRejected: 5 }), { successThreshold: 0.9 }),
      'maxRejected none (was 5)',
    );
  });

  it('says nothing changed when the thresholds are the same, so the finished run is not run again', () => {
    assert.equal(
      rejudgeChange(ran({ successThreshold: 0.9, maxRejected: 5 }), {
        successThreshold: 0.9,
        maxRejected: 5,
      }),
      undefined,
    );
  });

  it('judges again a run recorded before runs stored their thresholds', () => {
    assert.equal(rejudgeChange(ran(undefined), { successThreshold: 1 }), 'successThreshold 1 (was none)');
  });
});
