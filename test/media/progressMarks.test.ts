import { strict as assert } from 'node:assert';
import { attachedMark, marksBetween } from '../../media/renderer/progressMarks';

const status = (state: 'running' | 'paused' | 'halted', configured: number) => ({
  state,
  rate: { configured },
});

describe('progress chart marks', () => {
  it('marks nothing at the first status or while nothing changes', () => {
    assert.deepEqual(marksBetween(undefined, status('paused', 10), 1000), []);
    assert.deepEqual(marksBetween(status('running', 10), status('running', 10), 2000), []);
  });

  it('marks a pause, a rate change and a resume, with the rates in words', () => {
    assert.deepEqual(marksBetween(status('running', 10), status('paused', 10), 1000), [
      { t: 1000, kind: 'paused', label: 'paused' },
    ]);
    assert.deepEqual(marksBetween(status('paused', 10), status('paused', 2.5), 2000), [
      { t: 2000, kind: 'rate', label: 'rate 10/s → 2.5/s' },
    ]);
    assert.deepEqual(marksBetween(status('paused', 2.5), status('running', 2.5), 3000), [
      { t: 3000, kind: 'resumed', label: 'resumed' },
    ]);
  });

  it('does not call the end of a paused run a resume', () => {
    assert.deepEqual(marksBetween(status('paused', 10), status('halted', 10), 1000), []);
  });

  it('says that an attach to a run already going starts the history', () => {
    assert.deepEqual(attachedMark(5000), {
      t: 5000,
      kind: 'attached',
      label: 'attached (earlier history not kept)',
    });
  });
});
