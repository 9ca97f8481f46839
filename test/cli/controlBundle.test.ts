import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { REPO } from '../support/cli';

/**
 * `backfill control` is typed during a run, often to stop it, so its bundle (dist/control.js) must stay
 * small: sql.js alone was 80 KB of its 87 KB when a path helper pulled it in. Built here as
 * scripts/build.mjs builds it, in memory, so the test needs no `npm run build` and always sees the source.
 */
async function controlBundleInputs(): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [path.join(REPO, 'src', 'cli', 'commands', 'controlCommand.ts')],
    absWorkingDir: REPO,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'esbuild'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

describe('the backfill control bundle', function () {
  this.timeout(60_000);

  it('holds no sql.js and no ledger implementation, only what control itself needs', async () => {
    const inputs = await controlBundleInputs();
    assert.ok(
      inputs.includes('src/cli/commands/controlCommand.ts'),
      `unexpected inputs: ${inputs.join(', ')}`,
    );
    const database = inputs.filter(
      (input) =>
        input.includes('node_modules/sql.js/') ||
        input === 'src/core/support/sqlite.ts' ||
        /^src\/core\/ledger\/(sqlJs|openLedger|journal)/.test(input),
    );
    assert.deepEqual(database, []);
  });
});
