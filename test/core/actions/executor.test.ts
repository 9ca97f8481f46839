import { strict as assert } from 'node:assert';
import { compileAction } from '../../../src/core/actions/preview';
import type { ActionPreview, RenderContext } from '../../../src/core/actions/preview';
import { ActionSchema } from '../../../src/core/format/schemas';
import type { ActionSpec } from '../../../src/core/format/schemas';
import type { Executor, ExecutionUnit } from '../../../src/core/actions/executor';
import { createExecutor } from '../../../src/core/actions/actionKinds';
import { SecretResolver } from '../../../src/core/secrets/secrets';
import type { ValidRecord } from '../../../src/core/model/types';
import { UserError } from '../../../src/core/model/types';
import type { TestServer } from './support';
import {
  COMMAND_FIXTURE,
  Cleanup,
  FIXTURES_DIR,
  readEvidence,
  removeDir,
  scratchDir,
  startServer,
} from './support';

describe('createExecutor', () => {
  const cleanup = new Cleanup();
  let outputDir: string;

  beforeEach(async () => {
    outputDir = await scratchDir();
    cleanup.add(() => removeDir(outputDir));
  });

  afterEach(() => cleanup.run());

  function renderContext(idempotencyKey?: string): RenderContext {
    return {
      env: { OUTPUT_DIR: outputDir },
      secrets: new SecretResolver({ ORDERS_TOKEN: 'tok-123456' }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    };
  }

  async function executorFor(
    spec: Record<string, unknown>,
  ): Promise<{ executor: Executor; action: ActionSpec }> {
    const action = ActionSchema.parse(spec);
    const executor = await createExecutor(action, {
      baseDir: FIXTURES_DIR,
      concurrency: 2,
      context: renderContext(),
    });
    cleanup.add(() => executor.close());
    return { executor, action };
  }

  /** Renders a record the way a run does, with its idempotency key. */
  function unitFor(action: ActionSpec, fields: Record<string, unknown>): ExecutionUnit {
    const record: ValidRecord = { key: String(fields.id), line: 3, fields };
    const idempotencyKey = `run-1:${record.key}`;
    const rendered = compileAction(action, { baseDir: FIXTURES_DIR }).render(
      record,
      renderContext(idempotencyKey),
    );
    if (!rendered.ok) throw new Error(rendered.reason);
    return { ...record, preview: rendered.preview, idempotencyKey };
  }

  async function serveOk(): Promise<TestServer> {
    const server = await startServer((_request, response) => response.end('ok'));
    cleanup.add(() => server.close());
    return server;
  }

  it('sends a rendered HTTP action, idempotency key included', async () => {
    const server = await serveOk();
    const { executor, action } = await executorFor({
      type: 'http',
      url: `${server.baseUrl}/orders/\${record:id}`,
      headers: { Authorization: 'Bearer ${secret:ORDERS_TOKEN}' },
      body: { id: '${record:id}' },
    });
    const unit = unitFor(action, { id: 'A-1' });
    const result = await executor.execute(unit.preview, unit, renderContext('run-1:A-1'), {
      timeoutMs: 5000,
    });

    assert.equal(executor.mode, 'record');
    assert.equal(result.ok, true);
    const [received] = server.requests;
    assert.equal(received?.path, '/orders/A-1');
    assert.equal(received?.headers['idempotency-key'], 'run-1:A-1');
    assert.equal(received?.headers.authorization, 'Bearer tok-123456');
    assert.equal(received?.body, '{"id":"A-1"}');
  });

  it('attempts record-mode units one after another, keyed by record key', async () => {
    const server = await serveOk();
    const { executor, action } = await executorFor({ type: 'http', url: `${server.baseUrl}/\${record:id}` });
    const results = await executor.executeUnits(
      ['A-1', 'A-2', 'A-3'].map((id) => unitFor(action, { id })),
      { timeoutMs: 5000 },
    );

    assert.deepEqual([...results.keys()], ['A-1', 'A-2', 'A-3']);
    assert.ok([...results.values()].every((result) => result.ok));
    assert.deepEqual(
      server.requests.map((request) => request.path),
      ['/A-1', '/A-2', '/A-3'],
    );
  });

  it('runs a record-mode command per record in the runbook folder, with the idempotency key', async () => {
    const { executor, action } = await executorFor({
      type: 'command',
      argv: [process.execPath, COMMAND_FIXTURE, 'record'],
      env: { OUTPUT_DIR: '${env:OUTPUT_DIR}' },
    });
    const results = await executor.executeUnits([unitFor(action, { id: 'A-1' })], { timeoutMs: 10_000 });

    assert.equal(results.get('A-1')?.ok, true);
    assert.deepEqual(await readEvidence(outputDir, 'A-1.json'), {
      stdin: '{"id":"A-1"}\n',
      args: [],
      idempotencyKey: 'run-1:A-1',
    });
  });

  it('runs a batch-mode command once for units rendered alike', async () => {
    const { executor, action } = await executorFor({
      type: 'command',
      mode: 'batch',
      argv: [process.execPath, COMMAND_FIXTURE, 'batch', '0'],
      env: { OUTPUT_DIR: '${env:OUTPUT_DIR}' },
    });
    const units = [
      unitFor(action, { id: 'A-1', report: 'ok' }),
      unitFor(action, { id: 'A-2', report: 'fail', error: 'archived' }),
    ];
    const results = await executor.executeUnits(units, { timeoutMs: 10_000 });

    assert.equal(executor.mode, 'batch');
    assert.equal(results.get('A-1')?.ok, true);
    assert.equal(results.get('A-2')?.ok, false);
    assert.equal(
      await readEvidence(outputDir, 'batch-stdin.json'),
      '{"id":"A-1","report":"ok"}\n{"id":"A-2","report":"fail","error":"archived"}\n',
    );
  });

  it('runs one batch process per distinct argv when a record value changes it', async () => {
    const { executor, action } = await executorFor({
      type: 'command',
      mode: 'batch',
      argv: [process.execPath, COMMAND_FIXTURE, 'batch', '0', '${record:region}'],
      env: { OUTPUT_DIR: '${env:OUTPUT_DIR}' },
    });
    const units = [
      unitFor(action, { id: 'A-1', region: 'eu' }),
      unitFor(action, { id: 'A-2', region: 'us' }),
      unitFor(action, { id: 'A-3', region: 'eu' }),
    ];
    const results = await executor.executeUnits(units, { timeoutMs: 10_000 });

    assert.equal(results.size, 3);
    assert.equal(
      await readEvidence(outputDir, 'batch-stdin-eu.json'),
      '{"id":"A-1","region":"eu"}\n{"id":"A-3","region":"eu"}\n',
    );
    assert.equal(await readEvidence(outputDir, 'batch-stdin-us.json'), '{"id":"A-2","region":"us"}\n');
  });

  it('calls a module handler with the run context and each unit idempotency key', async () => {
    const { executor, action } = await executorFor({ type: 'module', path: 'handler.ts' });
    const results = await executor.executeUnits([unitFor(action, { id: 'A-1' })], { timeoutMs: 5000 });

    assert.equal(results.get('A-1')?.ok, true);
    assert.deepEqual(await readEvidence(outputDir, 'A-1.json'), {
      fields: { id: 'A-1' },
      key: 'A-1',
      line: 3,
      dryRun: false,
      idempotencyKey: 'run-1:A-1',
      hasSignal: true,
      tokenLength: 10,
    });
  });

  it('refuses to create a module executor whose module cannot be loaded', async () => {
    await assert.rejects(
      createExecutor(ActionSchema.parse({ type: 'module', path: 'missing.ts' }), {
        baseDir: FIXTURES_DIR,
        concurrency: 1,
      }),
      UserError,
    );
  });

  it('reports a preview of another action type as a non-retryable internal error', async () => {
    const { executor } = await executorFor({ type: 'http', url: 'http://127.0.0.1:1/x' });
    const preview: ActionPreview = { type: 'module', path: 'handler.ts', export: 'handler' };
    const result = await executor.execute(preview, { key: 'A-1', line: 1, fields: {} }, renderContext(), {
      timeoutMs: 5000,
    });

    assert.equal(result.ok, false);
    assert.ok(!result.ok && !result.retryable && /internal error/.test(result.message));
  });
});
