import { strict as assert } from 'node:assert';
import { UserError } from '../../../src/core/model/types';
import type { RunRecord } from '../../../src/core/model/runs';
import { endedBeforeJoining } from '../../../src/core/run/runner';

const refusal = new UserError('cell full already finished in run r1 (succeeded)');
const run = (outcome: RunRecord['outcome']) => ({ id: 'r1', outcome }) as RunRecord;

describe('a worker that reaches a run after its end', () => {
  it("reports the run's end, not the resume plan's refusal", () => {
    const result = endedBeforeJoining(run('succeeded'), refusal);
    assert.equal(result.outcome, 'succeeded');
    assert.match(result.reason ?? '', /run r1 ended \(succeeded\) before this worker took any of it/);
    assert.equal(endedBeforeJoining(run('crashed'), refusal).outcome, 'halted');
    assert.equal(endedBeforeJoining(run('below-threshold'), refusal).outcome, 'below-threshold');
  });

  it('keeps the error while the run is still live or gone', () => {
    assert.throws(() => endedBeforeJoining(run('running'), refusal), /already finished/);
    assert.throws(() => endedBeforeJoining(undefined, refusal), /already finished/);
  });
});
