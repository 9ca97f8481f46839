import assert from 'node:assert/strict';
import { offStop, onStop } from '../../../src/core/actions/stopSignal';

describe('stopping the attempts in flight on a run’s stop signal', () => {
  it('stops every attempt still registered when the signal aborts, and none that ended before', () => {
    const controller = new AbortController();
    const stopped: string[] = [];
    const attempts = ['a', 'b', 'c'].map((name) => () => stopped.push(name));
    for (const stop of attempts) onStop(controller.signal, stop);
    offStop(controller.signal, attempts[1]!);
    controller.abort();
    assert.deepEqual(stopped, ['a', 'c']);
  });

  it('stops each attempt once, and not one that ended while the others were being stopped', () => {
    const controller = new AbortController();
    const stopped: string[] = [];
    const ended = () => stopped.push('ended');
    const first = () => {
      stopped.push('first');
      offStop(controller.signal, first);
      offStop(controller.signal, ended);
    };
    onStop(controller.signal, first);
    onStop(controller.signal, ended);
    controller.abort();
    controller.abort();
    assert.deepEqual(stopped, ['first']);
  });

  it('keeps the attempts of different signals apart', () => {
    const first = new AbortController();
    const second = new AbortController();
    const stopped: string[] = [];
    onStop(first.signal, () => stopped.push('first'));
    onStop(second.signal, () => stopped.push('second'));
    second.abort();
    assert.deepEqual(stopped, ['second']);
  });
});
