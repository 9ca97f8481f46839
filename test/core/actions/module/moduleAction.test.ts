import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compileAction, loadActionModule, loadModuleDryRun } from '../../../../src/core/actions/preview';
import { UserError } from '../../../../src/core/model/types';
import { actionSpec, previewOf, reasonOf, record, renderContext } from '../helpers';

const FIXTURES = path.resolve(__dirname, '../../../fixtures/actions');

describe('module action preview', () => {
  let scratch: string;
  let markerFile: string;

  beforeEach(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'backfill-module-'));
    markerFile = path.join(scratch, 'handler-was-called');
  });

  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  function moduleAction(modulePath: string, baseDir = FIXTURES) {
    return compileAction(actionSpec({ type: 'module', path: modulePath }), { baseDir });
  }

  function contextWithMarker(idempotencyKey?: string) {
    const overrides = { env: { MARKER_FILE: markerFile }, ...(idempotencyKey ? { idempotencyKey } : {}) };
    return renderContext(overrides);
  }

  it('calls the dryRun export of a TypeScript module and never its handler', async () => {
    const action = moduleAction('orderModule.ts');
    const result = await action.preview(record({ id: 'A-1' }), contextWithMarker('k-1'));
    assert.deepEqual(previewOf(result), {
      type: 'module',
      path: 'orderModule.ts',
      export: 'handler',
      dryRun: { wouldResend: 'order A-1', key: 'A-1', dryRun: true, idempotencyKey: 'k-1', tokenLength: 10 },
    });
    assert.equal(existsSync(markerFile), false, 'the handler wrote its marker file');
  });

  it('has a handler fixture that does leave the marker when it is called', async () => {
    const loaded = await loadActionModule({ path: 'orderModule.ts', export: 'handler' }, FIXTURES);
    assert.ok(loaded.ok);
    await loaded.module.main(
      { id: 'A-1' },
      {
        key: 'A-1',
        line: 2,
        dryRun: false,
        env: { MARKER_FILE: markerFile },
        secret: () => 'unused',
      },
    );
    assert.equal(existsSync(markerFile), true);
  });

  it('renders a module action without loading the module', () => {
    const action = moduleAction('does-not-exist.ts');
    assert.deepEqual(previewOf(action.render(record({ id: 1 }), contextWithMarker())), {
      type: 'module',
      path: 'does-not-exist.ts',
      export: 'handler',
    });
  });

  it('gives dryRun a copy, so the engine keeps the record it read', async () => {
    const input = record({ id: 'A-1' });
    await moduleAction('orderModule.ts').preview(input, contextWithMarker());
    assert.deepEqual(input.fields, { id: 'A-1' });
  });

  it('describes an ESM module without dryRun and does not call its handler', async () => {
    const result = await moduleAction('handlerOnly.mjs').preview(record({ id: 1 }), contextWithMarker());
    assert.deepEqual(previewOf(result), { type: 'module', path: 'handlerOnly.mjs', export: 'handler' });
    assert.equal(existsSync(markerFile), false, 'the handler wrote its marker file');
  });

  it('returns the dryRun export without calling anything', async () => {
    const dryRun = await loadModuleDryRun({ path: 'orderModule.ts', export: 'handler' }, FIXTURES);
    assert.equal(typeof dryRun, 'function');
    assert.equal(existsSync(markerFile), false);
  });

  it('refuses the record with the message when dryRun throws', async () => {
    await writeFile(
      path.join(scratch, 'throws.cjs'),
      'exports.handler = () => {};\nexports.dryRun = () => { throw new Error("no such order"); };\n',
    );
    const result = await moduleAction('throws.cjs', scratch).preview(record({ id: 1 }), contextWithMarker());
    assert.equal(reasonOf(result), 'dryRun of throws.cjs threw: no such order');
  });

  it('lets dryRun import() other modules at run time', async () => {
    await writeFile(
      path.join(scratch, 'lazy.mjs'),
      'export const handler = () => {};\n' +
        "export const dryRun = async () => (await import('node:path')).basename('/a/b.txt');\n",
    );
    const result = await moduleAction('lazy.mjs', scratch).preview(record({ id: 1 }), contextWithMarker());
    assert.deepEqual(previewOf(result), {
      type: 'module',
      path: 'lazy.mjs',
      export: 'handler',
      dryRun: 'b.txt',
    });
  });

  it('reports a module that does not compile at its file, line and column', async () => {
    await writeFile(path.join(scratch, 'broken.ts'), 'export const handler = (;\n');
    const loaded = await loadActionModule({ path: 'broken.ts', export: 'handler' }, scratch);
    assert.equal(loaded.ok, false);
    assert.match(
      !loaded.ok ? loaded.message : '',
      /^module broken\.ts does not compile: .*broken\.ts:1:\d+: /,
    );
  });

  it('reports a missing export without calling any function', async () => {
    await writeFile(path.join(scratch, 'other.mjs'), 'export const apply = () => {};\n');
    const loaded = await loadActionModule({ path: 'other.mjs', export: 'handler' }, scratch);
    assert.deepEqual(loaded, { ok: false, message: 'module other.mjs has no function export "handler"' });
  });

  it('throws a UserError from loadModuleDryRun when the module is missing', async () => {
    await assert.rejects(
      loadModuleDryRun({ path: 'missing.ts', export: 'handler' }, scratch),
      (error: unknown) => error instanceof UserError && /module missing\.ts not found/.test(error.message),
    );
  });

  it('reports an unsupported file type as an issue of the spec', () => {
    assert.deepEqual(
      moduleAction('handler.py').issues.map((issue) => issue.field),
      ['path'],
    );
  });
});
