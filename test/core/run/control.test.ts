import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readControl, sendControl, watchControl } from '../../../src/core/run/control';
import { tempDir } from '../../support/cli';

/**
 * Open file-system watches of this process (fs.watch handles), once the handles closed so far are gone:
 * they leave in the event loop's close phase, and a new timer runs only after it.
 */
async function openWatches(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  return process.getActiveResourcesInfo().filter((name) => name === 'FSEventWrap').length;
}

/**
 * Resolves once a separate watch of `folder` has seen `name` change, after the event loop has run every
 * watch callback of that batch: whatever a watch under test was told by then, it has been told.
 */
function landed(folder: string, name: string): Promise<void> {
  return new Promise((resolve) => {
    const sentinel = fs.watch(folder, (_event, changed) => {
      if (changed !== name) return;
      sentinel.close();
      setImmediate(resolve);
    });
  });
}

describe('watchControl', () => {
  let work: ReturnType<typeof tempDir>;
  let stateDir: string;
  let haltFile: string;

  beforeEach(() => {
    work = tempDir('backfill-control-');
    stateDir = path.join(work.dir, 'job.backfill.d');
    haltFile = path.join(work.dir, 'job.backfill.halt');
    fs.mkdirSync(stateDir);
  });
  afterEach(() => work.cleanup());

  it('calls onChange when a control command replaces control.json, with the command readable', async () => {
    const seen = await new Promise<ReturnType<typeof readControl>>((resolve) => {
      const watch = watchControl(stateDir, haltFile, () => {
        watch.close();
        resolve(readControl(stateDir));
      });
      sendControl(stateDir, { command: 'stop' });
    });
    assert.equal(seen.stop, true);
    assert.equal(seen.seq, 1);
  });

  it('calls onChange when the halt file is created beside the runbook', async () => {
    const present = await new Promise<boolean>((resolve) => {
      const watch = watchControl(stateDir, haltFile, () => {
        watch.close();
        resolve(fs.existsSync(haltFile));
      });
      fs.writeFileSync(haltFile, '');
    });
    assert.equal(present, true);
  });

  it('ignores the other files of both folders: the journal, status.json, the runbook', async () => {
    let calls = 0;
    const watch = watchControl(stateDir, haltFile, () => (calls += 1));
    try {
      const others = Promise.all([landed(stateDir, 'status.json'), landed(work.dir, 'job.backfill')]);
      fs.appendFileSync(path.join(stateDir, 'journal.jsonl'), '{}\n');
      fs.writeFileSync(path.join(stateDir, 'status.json.1.tmp'), '{}');
      fs.renameSync(path.join(stateDir, 'status.json.1.tmp'), path.join(stateDir, 'status.json'));
      fs.writeFileSync(path.join(work.dir, 'job.backfill'), '---\n');
      await others;
      assert.equal(calls, 0);
      // The watch was working all along: the next command does reach it.
      const command = landed(stateDir, 'control.json');
      sendControl(stateDir, { command: 'pause' });
      await command;
      assert.ok(calls >= 1);
    } finally {
      watch.close();
    }
  });

  it('closes both of its watches and calls onChange no more once closed', async () => {
    const before = await openWatches();
    let calls = 0;
    const watch = watchControl(stateDir, haltFile, () => (calls += 1));
    assert.equal(await openWatches(), before + 2);
    watch.close();
    assert.equal(await openWatches(), before);
    const both = Promise.all([landed(stateDir, 'control.json'), landed(work.dir, 'job.backfill.halt')]);
    sendControl(stateDir, { command: 'stop' });
    fs.writeFileSync(haltFile, '');
    await both;
    assert.equal(calls, 0);
  });

  it('still watches the halt file when the state folder cannot be watched, and never throws', async () => {
    fs.rmSync(stateDir, { recursive: true });
    const before = await openWatches();
    let present = false;
    const watch = watchControl(stateDir, haltFile, () => (present = fs.existsSync(haltFile)));
    try {
      assert.equal(await openWatches(), before + 1);
      const halt = landed(work.dir, 'job.backfill.halt');
      fs.writeFileSync(haltFile, '');
      await halt;
      assert.equal(present, true);
    } finally {
      watch.close();
    }
    assert.equal(await openWatches(), before);
  });
});
