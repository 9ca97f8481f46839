import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sendControl } from '../../../src/core/run/control';
import { applyControl, LiveControl, type Controllable } from '../../../src/core/run/liveControl';

/** A dispatcher stand-in that notes the commands it gets. */
function target(): Controllable & { calls: string[] } {
  const calls: string[] = [];
  let stopping = false;
  return {
    calls,
    get stopping() {
      return stopping;
    },
    stop: (reason) => {
      stopping = true;
      calls.push(`stop: ${reason}`);
    },
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    setRate: (rate) => calls.push(`rate ${rate}`),
    setConcurrency: (n) => calls.push(`concurrency ${n}`),
  };
}

describe('live control', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'live-control-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('applies a rate, a concurrency and a pause, and ignores nonsensical values', () => {
    const t = target();
    applyControl({ seq: 1, paused: true, stop: false, rate: 5, concurrency: 2 }, t);
    assert.deepEqual(t.calls, ['rate 5', 'concurrency 2', 'pause']);
    const u = target();
    applyControl({ seq: 2, paused: false, stop: false, rate: 0, concurrency: -1 }, u);
    assert.deepEqual(u.calls, ['resume']);
  });

  it('stops, and then neither pauses nor resumes', () => {
    const t = target();
    applyControl({ seq: 1, paused: false, stop: true }, t);
    assert.deepEqual(t.calls, ['stop: stopped by backfill control']);
  });

  it('applies each command of the control file once, and reports it', () => {
    const t = target();
    let applied = 0;
    const control = new LiveControl(dir, path.join(dir, 'x.backfill.halt'), t, () => (applied += 1));
    const end = control.start();
    try {
      control.poll();
      assert.deepEqual(t.calls, [], 'a fresh run starts from a clean control file');
      sendControl(dir, { command: 'pause' });
      control.poll();
      control.poll();
      assert.deepEqual(t.calls, ['pause']);
      assert.equal(applied, 1);
      sendControl(dir, { command: 'rate', value: 7 });
      control.poll();
      assert.deepEqual(t.calls, ['pause', 'rate 7', 'pause']);
    } finally {
      end();
    }
  });

  it('stops on the halt file and on the signal', () => {
    const halt = path.join(dir, 'x.backfill.halt');
    const t = target();
    const control = new LiveControl(dir, halt, t, () => undefined);
    const stop = new AbortController();
    const end = control.start(stop.signal);
    try {
      fs.writeFileSync(halt, '');
      control.poll();
      stop.abort();
      assert.deepEqual(t.calls, [`stop: halt file ${halt} found`, 'stop: stopped by signal']);
    } finally {
      end();
    }
  });

  it('starts from a clean control file, so an old stop does not halt a new run', () => {
    sendControl(dir, { command: 'stop' });
    const t = target();
    const control = new LiveControl(dir, path.join(dir, 'x.halt'), t, () => undefined);
    const end = control.start();
    control.poll();
    end();
    assert.deepEqual(t.calls, []);
  });
});
