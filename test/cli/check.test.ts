import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MALFORMED } from '../support/malformedRunbooks';
import { CLI, runCli, tempDir, REPO } from '../support/cli';

describe('backfill check and new', () => {
  let work: ReturnType<typeof tempDir>;
  beforeEach(() => (work = tempDir()));
  afterEach(() => work.cleanup());

  for (const c of MALFORMED) {
    it(`exits 2 with a located message for ${c.name}`, async () => {
      const file = path.join(work.dir, 'bad.backfill');
      fs.writeFileSync(file, c.text);
      const result = await runCli(['check', file]);
      assert.equal(result.code, 2);
      const located = `${file}:${c.line}: ${c.cell ? `cell ${c.cell}: ` : ''}${c.field ? `${c.field}: ` : ''}`;
      const line = result.stderr.split('\n').find((l) => l.startsWith(located) && l.includes(c.message));
      assert.ok(line, `expected a line starting "${located}" saying "${c.message}"; got:\n${result.stderr}`);
      assert.ok(!/\n\s+at /.test(result.stderr), 'no stack trace');
    });
  }

  it('accepts the demo runbook', async () => {
    const result = await runCli(['check', path.join(REPO, 'runbooks', 'demo.backfill'), '--json']);
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout);
    assert.equal(parsed.ok, true);
    assert.ok(parsed.cells.some((c: { id: string }) => c.id === 'preview'));
  });

  it('scaffolds a runbook that walks the six steps and passes check', async () => {
    const file = path.join(work.dir, 'resend-invoices.backfill');
    const created = await runCli(['new', file, '--owner', 'Ada']);
    assert.equal(created.code, 0, created.stderr);
    const text = fs.readFileSync(file, 'utf8');
    for (const step of ['Plan', 'Communicate', 'Test', 'Run and monitor', 'Verify', 'Document']) {
      assert.match(text, new RegExp(`## \\d\\. ${step}`));
    }
    assert.match(text, /^name: resend-invoices$/m);
    const checked = await runCli(['check', file]);
    assert.equal(checked.code, 0, checked.stderr);
  });

  it('refuses to overwrite an existing runbook without --force', async () => {
    const file = path.join(work.dir, 'a.backfill');
    fs.writeFileSync(file, 'keep me');
    const result = await runCli(['new', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /already exists/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
  });

  it('exits 2 for a missing runbook file and for an unknown command, 0 for --help', async () => {
    const missing = await runCli(['check', path.join(work.dir, 'nope.backfill')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file/);
    const unknown = await runCli(['explode']);
    assert.equal(unknown.code, 2);
    const help = await runCli(['dry-run', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--cell <id>/);
  });

  it('refuses a runbook that is not valid UTF-8 at its line, and a dry run leaves it byte for byte', async () => {
    const file = path.join(work.dir, 'latin1.backfill');
    const bytes = Buffer.concat([
      Buffer.from('---\ntitle: Caf'),
      Buffer.from([0xe9]),
      Buffer.from('\nname: t\nowner: o\n---\n'),
    ]);
    fs.writeFileSync(file, bytes);
    for (const command of ['check', 'dry-run']) {
      const result = await runCli([command, file]);
      assert.equal(result.code, 2, result.stderr);
      assert.ok(result.stderr.includes(`${file}:2: not valid UTF-8`), result.stderr);
    }
    assert.deepEqual(fs.readFileSync(file), bytes);
  });

  it('ends quietly with its own exit code when the reader of its output goes away (| head)', async () => {
    const child = spawn(process.execPath, [CLI, 'check', path.join(REPO, 'runbooks', 'demo.backfill')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.ok(!/\n\s+at /.test(stderr), `no stack trace:\n${stderr}`);
  });
});
