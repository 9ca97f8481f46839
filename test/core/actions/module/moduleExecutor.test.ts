import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModuleContext } from '../../../../src/core/actions/module/moduleLoader';
import type { ModuleExecutor } from '../../../../src/core/actions/module/moduleExecutor';
import { createModuleExecutor } from '../../../../src/core/actions/module/moduleExecutor';
import type { AttemptResult } from '../../../../src/core/model/runs';
import { UserError } from '../../../../src/core/model/types';
import { Cleanup, FIXTURES_DIR, delay, readEvidence, removeDir, scratchDir } from '../support';

function failure(result: AttemptResult): Extract<AttemptResult, { ok: false }> {
  if (result.ok) throw new Error(`expected a failed attempt, got ${JSON.stringify(result)}`);
  return result;
}

describe('module executor', () => {
  const cleanup = new Cleanup();
  let outputDir: string;
  let executor: ModuleExecutor;

  beforeEach(async () => {
    outputDir = await scratchDir();
    cleanup.add(() => removeDir(outputDir));
    executor = await createModuleExecutor({ path: 'handler.ts', export: 'handler' }, FIXTURES_DIR);
  });

  afterEach(() => cleanup.run());

  function context(key = 'A-1', idempotencyKey: string | undefined = 'run-1:A-1'): ModuleContext {
    const ctx: ModuleContext = {
      key,
      line: 7,
      dryRun: false,
      env: { OUTPUT_DIR: outputDir },
      secret: (name) => (name === 'ORDERS_TOKEN' ? 'tok-123456' : ''),
    };
    if (idempotencyKey !== undefined) ctx.idempotencyKey = idempotencyKey;
    return ctx;
  }

  it('calls the handler with the record fields, its context and the idempotency key', async () => {
    const fields = { id: 'A-1', amount: 12.5, tags: ['a', 'b'] };
    const result = await executor.execute(fields, context(), { timeoutMs: 5000 });

    assert.deepEqual(result, { ok: true, durationMs: result.durationMs });
    assert.deepEqual(await readEvidence(outputDir, 'A-1.json'), {
      fields,
      key: 'A-1',
      line: 7,
      dryRun: false,
      idempotencyKey: 'run-1:A-1',
      hasSignal: true,
      tokenLength: 10,
    });
  });

  it('gives the handler its context as a plain object whose last property is an enumerable signal getter', async () => {
    await executor.execute({ behaviour: 'describe-context' }, context(), { timeoutMs: 5000 });

    assert.deepEqual(await readEvidence(outputDir, 'context.json'), {
      keys: ['key', 'line', 'dryRun', 'env', 'secret', 'idempotencyKey', 'signal'],
      plain: true,
      signal: { enumerable: true, configurable: true, getter: 'get signal' },
      sameSignal: true,
      inherited: true,
    });
  });

  it('gives the handler a copy, so its changes never reach the engine record', async () => {
    const fields = { id: 'A-1' };
    await executor.execute(fields, context(), { timeoutMs: 5000 });

    assert.deepEqual(fields, { id: 'A-1' });
  });

  it('gives the handler a deep copy of a record with nested values', async () => {
    const fields = { id: 'A-2', tags: ['a'] };
    await executor.execute(fields, context('A-2'), { timeoutMs: 5000 });

    assert.deepEqual(fields, { id: 'A-2', tags: ['a'] });
  });

  it('reads an error thrown with retryable: true as a retryable handler error', async () => {
    const result = failure(
      await executor.execute({ behaviour: 'fail-transient' }, context(), { timeoutMs: 5000 }),
    );

    assert.equal(result.kind, 'handler-error');
    assert.equal(result.retryable, true);
    assert.equal(result.message, 'database is busy');
  });

  it('reads any other rejection as a permanent handler error, in one line', async () => {
    const result = failure(await executor.execute({ behaviour: 'fail' }, context(), { timeoutMs: 5000 }));

    assert.equal(result.kind, 'handler-error');
    assert.equal(result.retryable, false);
    assert.equal(result.overload, false);
    assert.equal(result.message, 'order 7 is archived at handler (handler.ts:1:1)');
  });

  it('gives up on a handler that outlives its timeout and signals it to stop', async () => {
    const result = failure(
      await executor.execute({ behaviour: 'sleep', ms: 300 }, context(), { timeoutMs: 100 }),
    );

    assert.equal(result.kind, 'timeout');
    assert.equal(result.retryable, true);
    // The abandoned handler still finishes in the background, and by then its signal had fired.
    await delay(500);
    assert.deepEqual(await readEvidence(outputDir, 'finished.json'), { aborted: true });
  });

  it('returns "aborted" as soon as the signal aborts', async () => {
    const stop = new AbortController();
    const attempt = executor.execute({ behaviour: 'sleep', ms: 300 }, context(), {
      timeoutMs: 5000,
      signal: stop.signal,
    });
    stop.abort();
    const result = failure(await attempt);

    assert.equal(result.retryable, false);
    assert.equal(result.message, 'aborted');
    // Lets the abandoned handler finish before its output folder is removed.
    await delay(400);
  });

  it('does not call the handler when the signal has already aborted', async () => {
    const result = failure(
      await executor.execute({ id: 'A-1' }, context(), { timeoutMs: 5000, signal: AbortSignal.abort() }),
    );

    assert.equal(result.message, 'aborted');
    assert.equal(existsSync(path.join(outputDir, 'A-1.json')), false);
  });

  it('refuses a module that cannot be loaded with a UserError naming it', async () => {
    await assert.rejects(
      createModuleExecutor({ path: 'missing.ts', export: 'handler' }, FIXTURES_DIR),
      (error: unknown) => error instanceof UserError && /module missing\.ts not found/.test(error.message),
    );
    await assert.rejects(
      createModuleExecutor({ path: 'handler.ts', export: 'nope' }, FIXTURES_DIR),
      (error: unknown) => error instanceof UserError && /no function export "nope"/.test(error.message),
    );
  });
});
