import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openSource } from '../../../src/core/sources/openSource';
import type { SourceItem } from '../../../src/core/model/types';
import { UserError } from '../../../src/core/model/types';
import { collect, fixtures, outline, sourceSpec } from './helpers';

const printRecords = (...args: string[]) =>
  sourceSpec({ type: 'command', argv: [process.execPath, 'print-records.js', ...args] });
const printForever = sourceSpec({ type: 'command', argv: [process.execPath, 'print-forever.js'] });

/** Waits until no process has `pid`; fails the test if it outlives a generous deadline. */
async function waitUntilGone(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`process ${pid} is still running`);
}

function pidOf(item: SourceItem): number {
  assert.ok(item.kind === 'record');
  const { pid } = item.fields;
  assert.equal(typeof pid, 'number');
  return pid as number;
}

describe('commandSource', () => {
  const started: number[] = [];
  // Should a kill test fail, its endless child must not keep the test run alive.
  after(() => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
  });

  it('reads the command output as JSON Lines, from the runbook folder, rejecting malformed lines', async () => {
    const items = await collect(openSource(printRecords(), { baseDir: fixtures }));
    assert.deepEqual(outline(items), [
      '1 record',
      `2 rejected: invalid JSON: Unexpected token 'o', "not json" is not valid JSON`,
      '4 record',
    ]);
    assert.deepEqual(items[2], { kind: 'record', line: 4, fields: { id: 2, name: 'Zoë' } });
  });

  it('hashes the bytes the command printed', async () => {
    const stream = openSource(printRecords(), { baseDir: fixtures });
    await collect(stream);
    const printed = '{"id": 1, "name": "Ada"}\nnot json\n\n{"id": 2, "name": "Zoë"}\n';
    assert.equal(stream.contentHash(), createHash('sha256').update(printed).digest('hex'));
    assert.equal(stream.bytesRead(), Buffer.byteLength(printed));
    assert.equal(stream.totalBytes(), undefined);
  });

  it('fails with the exit code and the end of stderr when the command exits non-zero', async () => {
    const stream = openSource(printRecords('3'), { baseDir: fixtures });
    const seen: number[] = [];
    const error = await (async () => {
      for await (const item of stream) seen.push(item.line);
    })().catch((caught: unknown) => caught);
    assert.deepEqual(seen, [1, 2, 4]);
    assert.ok(error instanceof UserError);
    assert.match(error.message, /exited with code 3; end of its stderr:\nboom: database unreachable$/);
  });

  it('fails with a clear message when the program does not exist', async () => {
    const spec = sourceSpec({ type: 'command', argv: ['backfill-no-such-program', '--list'] });
    await assert.rejects(collect(openSource(spec, { baseDir: fixtures })), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /"backfill-no-such-program" was not found \(argv runs without a shell/);
      return true;
    });
  });

  it('passes arguments to the program as they are, without a shell', async () => {
    const spec = sourceSpec({
      type: 'command',
      argv: [
        process.execPath,
        '-e',
        'console.log(JSON.stringify({ id: 1, arg: process.argv[1] }))',
        '$HOME; echo hi',
      ],
    });
    const items = await collect(openSource(spec, { baseDir: fixtures }));
    assert.deepEqual(items, [{ kind: 'record', line: 1, fields: { id: 1, arg: '$HOME; echo hi' } }]);
  });

  it('kills the command when the reader stops early', async () => {
    const stream = openSource(printForever, { baseDir: fixtures });
    let pid = 0;
    for await (const item of stream) {
      if (item.line === 1) started.push((pid = pidOf(item)));
      if (item.line === 3) break;
    }
    await waitUntilGone(pid);
    assert.throws(() => stream.contentHash(), /only known once the record stream was read to its end/);
  });

  it('kills the command and stops with an AbortError when the signal aborts', async () => {
    const controller = new AbortController();
    const stream = openSource(printForever, { baseDir: fixtures, signal: controller.signal });
    let pid = 0;
    const error = await (async () => {
      for await (const item of stream) {
        if (item.line === 1) started.push((pid = pidOf(item)));
        if (item.line === 3) controller.abort();
      }
    })().catch((caught: unknown) => caught);
    assert.equal((error as Error).name, 'AbortError');
    await waitUntilGone(pid);
  });
});
