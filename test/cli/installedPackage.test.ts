// The package as a user gets it: `npm pack`, `npm install -g` of the tarball into a prefix of its own
// (offline: the package needs nothing from the registry), then the installed `backfill` used from a
// folder outside the repository — new, check, dry-run, and real runs against a local server, one of
// them through a TypeScript module action (esbuild's WebAssembly, found in the installed package). And
// the README's `npx --yes --package` line, run as written, from a folder that holds only the tarball.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, tempDir } from '../support/cli';
import { startTargetServer, type TargetServer } from '../support/targetServer';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const MODULE_RUNBOOK = `---
title: Module action
name: module-action
owner: Tests
environments:
  test: { vars: { BASE_URL: "http://127.0.0.1:9" } }
---

\`\`\`job id=notify
source: { type: inline, key: id, records: [{ id: m1 }, { id: m2 }] }
action: { type: module, path: notify.ts }
\`\`\`

\`\`\`execute id=all
job: notify
\`\`\`
`;

const MODULE_SOURCE = `import { label } from './label';
export async function handler(fields: { id: string }, ctx: { env: Record<string, string> }): Promise<void> {
  const response = await fetch(\`\${ctx.env.BASE_URL}/module/\${label(fields.id)}\`, { method: 'POST' });
  if (!response.ok) throw new Error(\`status \${response.status}\`);
}
`;

describe('the npm package, installed outside the repository', function () {
  this.timeout(300_000);
  let work: ReturnType<typeof tempDir>;
  let target: TargetServer | undefined;

  let tarball: string;

  before(async () => {
    work = tempDir('backfill-package-');
    const packed = await run('npm', ['pack', '--pack-destination', work.dir], REPO);
    assert.equal(packed.code, 0, packed.stderr);
    tarball = path.join(work.dir, packed.stdout.trim().split('\n').pop()!);
    assert.match(path.basename(tarball), /^backfill-runbooks-.*\.tgz$/);
  });
  after(async () => {
    await target?.stop();
    work.cleanup();
  });

  it('packs, installs with npm install -g from the tarball, and runs new, check, dry-run and real runs', async () => {
    const prefix = path.join(work.dir, 'prefix');
    const install = await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
      work.dir,
    );
    assert.equal(install.code, 0, install.stdout + install.stderr);
    const installed = path.join(prefix, 'lib', 'node_modules', 'backfill-runbooks');
    assert.ok(!fs.existsSync(path.join(installed, 'node_modules')), 'the package needs no dependencies');

    // A folder outside the repository, with the installed bin first on the PATH.
    const home = path.join(work.dir, 'elsewhere');
    fs.mkdirSync(home);
    const env = { PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH ?? ''}` };
    const backfill = (...args: string[]) => run('backfill', args, home, env);

    const created = await backfill('new', 'orders.backfill');
    assert.equal(created.code, 0, created.stderr);
    const checked = await backfill('check', 'orders.backfill');
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /valid runbook "orders"/);

    target = await startTargetServer();
    const vars = ['--var', `BASE_URL=${target.url}`];
    const dryRun = await backfill('dry-run', 'orders.backfill', ...vars);
    assert.equal(dryRun.code, 0, dryRun.stdout + dryRun.stderr);
    assert.match(dryRun.stdout, /PASSED/);
    assert.equal(target.arrivals.length, 0, 'a dry run sends nothing');
    assert.ok(
      fs.existsSync(path.join(home, 'orders.backfill.d', 'ledger.sqlite')),
      'sql.js wrote the ledger',
    );

    const real = await backfill('run', 'orders.backfill', '--cell', 'full', '--execute', ...vars);
    assert.equal(real.code, 0, real.stdout + real.stderr);
    const sent = target.arrivals.map((a) => `${a.method} ${a.path}`).sort();
    assert.deepEqual(sent, ['POST /records/1001/reprocess', 'POST /records/1002/reprocess']);

    fs.writeFileSync(path.join(home, 'module.backfill'), MODULE_RUNBOOK);
    fs.writeFileSync(path.join(home, 'notify.ts'), MODULE_SOURCE);
    fs.writeFileSync(
      path.join(home, 'label.ts'),
      'export const label = (id: string): string => `order-${id}`;\n',
    );
    const viaModule = await backfill('run', 'module.backfill', '--cell', 'all', '--execute', ...vars);
    assert.equal(viaModule.code, 0, viaModule.stdout + viaModule.stderr);
    const fromModule = target.arrivals.filter((a) => a.path.startsWith('/module/')).map((a) => a.path);
    assert.deepEqual(fromModule.sort(), ['/module/order-m1', '/module/order-m2']);
  });

  it("runs through the README's npx line, as written, from a folder holding only the tarball (offline, no prompt)", async () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const start = readme.indexOf('## Start here');
    const install = readme.indexOf('### Installing `backfill` anywhere else');
    const firstBlockEnd = readme.indexOf('```\n', readme.indexOf('```sh', start) + 5);
    assert.ok(start >= 0 && install > firstBlockEnd, 'the README has "Installing" under "Start here"');
    assert.equal(
      readme.slice(firstBlockEnd + 4, install).trim(),
      '',
      'installing comes first thing after the two commands',
    );
    const line = /^npx --yes --package \.\/backfill-runbooks-\*\.tgz backfill --help\b/m.exec(readme)?.[0];
    assert.ok(line, "the README's npx line, with --yes so npx asks nothing");

    // A folder outside the repository with the tarball alone; an npm cache of its own, offline: the
    // package needs nothing from the registry.
    const alone = path.join(work.dir, 'only-the-tarball');
    fs.mkdirSync(alone);
    fs.copyFileSync(tarball, path.join(alone, path.basename(tarball)));
    const env = { npm_config_cache: path.join(work.dir, 'npx-cache'), npm_config_offline: 'true' };
    const npx = (args: string) => run('sh', ['-c', `${line.replace(/ --help$/, '')} ${args}`], alone, env);

    const help = await run('sh', ['-c', line], alone, env);
    assert.equal(help.code, 0, help.stdout + help.stderr);
    assert.match(help.stdout, /^Usage: backfill /);
    const created = await npx('new orders.backfill');
    assert.equal(created.code, 0, created.stdout + created.stderr);
    const checked = await npx('check orders.backfill');
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /valid runbook "orders"/);

    target ??= await startTargetServer();
    const before = target.arrivals.length;
    const real = await npx(`run orders.backfill --cell full --execute --var BASE_URL=${target.url}`);
    assert.equal(real.code, 0, real.stdout + real.stderr);
    const sent = target.arrivals.slice(before).map((a) => `${a.method} ${a.path}`);
    assert.deepEqual(sent.sort(), ['POST /records/1001/reprocess', 'POST /records/1002/reprocess']);
  });
});
