import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandPreview } from '../../../../src/core/actions/compiledAction';
import {
  RETRYABLE_EXIT_CODE,
  executeCommand,
  executeCommandBatch,
} from '../../../../src/core/actions/command/commandExecutor';
import type { AttemptResult } from '../../../../src/core/model/runs';
import {
  COMMAND_FIXTURE,
  Cleanup,
  delay,
  processExists,
  readEvidence,
  removeDir,
  scratchDir,
  waitUntil,
} from '../support';

function failure(result: AttemptResult | undefined): Extract<AttemptResult, { ok: false }> {
  if (!result || result.ok) throw new Error(`expected a failed attempt, got ${JSON.stringify(result)}`);
  return result;
}

describe('command executor', () => {
  const cleanup = new Cleanup();
  let outputDir: string;

  beforeEach(async () => {
    outputDir = await scratchDir();
    cleanup.add(() => removeDir(outputDir));
  });

  afterEach(() => cleanup.run());

  /** A record-mode preview running the fixture with `behaviour`, as the command action renders it. */
  function preview(behaviour: string[], fields: Record<string, unknown> = { id: 'A-1' }): CommandPreview {
    return {
      type: 'command',
      mode: 'record',
      argv: [process.execPath, COMMAND_FIXTURE, ...behaviour],
      stdin: `${JSON.stringify(fields)}\n`,
      env: { OUTPUT_DIR: outputDir, BACKFILL_IDEMPOTENCY_KEY: 'run-1:A-1' },
    };
  }

  function options(overrides: { timeoutMs?: number; signal?: AbortSignal } = {}) {
    return { timeoutMs: 10_000, cwd: outputDir, ...overrides };
  }

  describe('one process per record', () => {
    it('gives the program exactly the record JSON on stdin, its arguments and the idempotency key', async () => {
      const fields = { id: 'A-1', note: '$(touch pwned); rm -rf / "quoted"\nline' };
      const hostile = '; echo $HOME `id` > pwned';
      const result = await executeCommand(preview(['record', hostile, '--'], fields), options());

      assert.deepEqual(result, { ok: true, durationMs: result.durationMs });
      assert.deepEqual(await readEvidence(outputDir, 'A-1.json'), {
        stdin: `${JSON.stringify(fields)}\n`,
        args: [hostile, '--'],
        idempotencyKey: 'run-1:A-1',
      });
      assert.equal(existsSync(path.join(outputDir, 'pwned')), false, 'a value reached a shell');
    });

    it('runs the program in the given folder', async () => {
      const result = await executeCommand(
        { ...preview([]), argv: [process.execPath, '-e', 'require("fs").writeFileSync("here", "")'] },
        options(),
      );

      assert.equal(result.ok, true);
      assert.equal(existsSync(path.join(outputDir, 'here')), true);
    });

    it(`treats exit code ${RETRYABLE_EXIT_CODE} as a retryable failure, with the end of stderr`, async () => {
      const result = failure(await executeCommand(preview(['exit', '75']), options()));

      assert.equal(result.kind, 'command-exit');
      assert.equal(result.retryable, true);
      assert.equal(result.overload, false);
      assert.equal(
        result.message,
        'exit code 75 (temporary failure, will retry): loading order lock wait timeout exceeded for order 7',
      );
    });

    it('treats any other non-zero exit code as a permanent failure', async () => {
      const result = failure(await executeCommand(preview(['exit', '1']), options()));

      assert.equal(result.kind, 'command-exit');
      assert.equal(result.retryable, false);
      assert.match(result.message, /^exit code 1: .*lock wait timeout exceeded for order 7$/);
    });

    it('keeps only the end of a long stderr in the message', async () => {
      const script = 'process.stderr.write("x".repeat(100000) + "\\nthe real reason"); process.exit(3)';
      const result = failure(
        await executeCommand({ ...preview([]), argv: [process.execPath, '-e', script] }, options()),
      );

      assert.ok(result.message.length <= 600, `message has ${result.message.length} characters`);
      assert.match(result.message, /^exit code 3: …x+ the real reason$/);
    });

    it('kills a program that outlives its timeout, before it finishes', async () => {
      const result = failure(await executeCommand(preview(['sleep', '800']), options({ timeoutMs: 200 })));

      assert.equal(result.kind, 'timeout');
      assert.equal(result.retryable, true);
      // Had it survived, it would have left its marker by now.
      await delay(1200);
      assert.equal(existsSync(path.join(outputDir, 'finished.json')), false);
    });

    it('kills a program that ignores SIGTERM when the signal aborts, and only then returns', async function () {
      this.timeout(15_000);
      const stop = new AbortController();
      const attempt = executeCommand(preview(['ignore-sigterm']), options({ signal: stop.signal }));
      await waitUntil(() => existsSync(path.join(outputDir, 'pid.json')));
      const pid = (await readEvidence(outputDir, 'pid.json')) as number;
      stop.abort();
      const result = failure(await attempt);

      assert.equal(result.kind, 'other');
      assert.equal(result.retryable, false);
      assert.equal(result.message, 'aborted');
      assert.equal(processExists(pid), false, 'the program is still running');
      assert.equal(existsSync(path.join(outputDir, 'finished.json')), false);
    });

    it('starts nothing when the signal has already aborted', async () => {
      const result = failure(
        await executeCommand(preview(['sleep', '0']), options({ signal: AbortSignal.abort() })),
      );

      assert.equal(result.message, 'aborted');
      assert.equal(existsSync(path.join(outputDir, 'pid.json')), false);
    });

    it('reports a program that does not exist as a permanent failure saying so', async () => {
      const result = failure(
        await executeCommand({ ...preview([]), argv: ['backfill-no-such-program-42', 'x'] }, options()),
      );

      assert.equal(result.kind, 'other');
      assert.equal(result.retryable, false);
      assert.equal(
        result.message,
        'could not start "backfill-no-such-program-42": no such program (argv[0] must be a path or a name found in PATH)',
      );
    });

    it('reports a missing working folder as such rather than as a missing program', async () => {
      const missing = path.join(outputDir, 'no-such-folder');
      const result = failure(await executeCommand(preview(['record']), { ...options(), cwd: missing }));

      assert.equal(result.retryable, false);
      assert.match(result.message, /the working folder .*no-such-folder does not exist/);
    });

    it('is not disturbed by a program that exits without reading its input', async () => {
      const bigRecord = { id: 'A-1', padding: 'x'.repeat(2_000_000) };
      const result = await executeCommand(
        { ...preview([], bigRecord), argv: [process.execPath, '-e', 'process.exit(0)'] },
        options(),
      );

      assert.equal(result.ok, true);
    });
  });

  describe('one process per batch', () => {
    function batchRecord(fields: Record<string, unknown>) {
      return { key: String(fields.id), stdin: `${JSON.stringify(fields)}\n` };
    }

    function runBatch(records: ReturnType<typeof batchRecord>[], exitCode = 0, timeoutMs = 10_000) {
      return executeCommandBatch(
        [process.execPath, COMMAND_FIXTURE, 'batch', String(exitCode)],
        { OUTPUT_DIR: outputDir },
        records,
        options({ timeoutMs }),
      );
    }

    it('writes every record as one JSON line on stdin, in order', async () => {
      const records = [{ id: 'A-1' }, { id: 'A-2', note: 'two\nlines' }, { id: 'A-3' }].map(batchRecord);
      await runBatch(records);

      assert.equal(
        await readEvidence(outputDir, 'batch-stdin.json'),
        records.map((record) => record.stdin).join(''),
      );
    });

    it('takes each reported line as that record result', async () => {
      const results = await runBatch([
        batchRecord({ id: 'A-1', report: 'ok' }),
        batchRecord({ id: 'A-2', report: 'fail', error: 'order is archived' }),
        batchRecord({ id: 'A-3', report: 'fail', error: 'row locked', retryable: true }),
      ]);

      assert.equal(results.get('A-1')?.ok, true);
      const archived = failure(results.get('A-2'));
      assert.equal(archived.kind, 'handler-error');
      assert.equal(archived.retryable, false);
      assert.equal(archived.message, 'order is archived');
      const locked = failure(results.get('A-3'));
      assert.equal(locked.retryable, true);
      assert.equal(locked.message, 'row locked');
    });

    it('gives records without a line the process result: success on exit 0', async () => {
      const results = await runBatch([
        batchRecord({ id: 'A-1', report: 'fail' }),
        batchRecord({ id: 'A-2' }),
      ]);

      assert.equal(results.get('A-1')?.ok, false);
      assert.equal(results.get('A-2')?.ok, true);
      assert.deepEqual([...results.keys()], ['A-1', 'A-2']);
    });

    it('gives records without a line the process failure, and keeps the reported successes', async () => {
      const results = await runBatch(
        [batchRecord({ id: 'A-1', report: 'ok' }), batchRecord({ id: 'A-2' }), batchRecord({ id: 'A-3' })],
        RETRYABLE_EXIT_CODE,
      );

      assert.equal(results.get('A-1')?.ok, true);
      for (const key of ['A-2', 'A-3']) {
        const result = failure(results.get(key));
        assert.equal(result.kind, 'command-exit');
        assert.equal(result.retryable, true);
      }
    });

    it('gives every record the spawn failure when the program cannot start', async () => {
      const results = await executeCommandBatch(
        ['backfill-no-such-program-42'],
        {},
        [batchRecord({ id: 'A-1' }), batchRecord({ id: 'A-2' })],
        options(),
      );

      for (const key of ['A-1', 'A-2']) assert.match(failure(results.get(key)).message, /no such program/);
    });
  });
});
