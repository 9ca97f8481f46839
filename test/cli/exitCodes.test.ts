import { strict as assert } from 'node:assert';
import { ExitCode, exitCodeOfRun } from '../../src/cli/exitCodes';

describe('exit codes of a run', () => {
  it('maps each outcome the core returns to the exit code scripts rely on', () => {
    assert.equal(exitCodeOfRun('succeeded'), 0);
    assert.equal(exitCodeOfRun('below-threshold'), 1);
    assert.equal(exitCodeOfRun('halted'), 3);
    assert.equal(exitCodeOfRun('refused'), 4);
  });

  it('names the same codes as the rest of the command line', () => {
    assert.equal(exitCodeOfRun('halted'), ExitCode.haltedResumable);
    assert.equal(exitCodeOfRun('refused'), ExitCode.refused);
  });
});
