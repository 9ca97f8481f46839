// The extension's manifest (package.json) against its code: every contributed command is registered, the
// renderer contract is exact, settings follow backfill.<area>.<key> and are read somewhere. Pure: reads
// files only, so it runs in the unit run.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const source = fs
  .readdirSync(path.join(ROOT, 'src/extension'))
  .filter((name) => name.endsWith('.ts'))
  .map((name) => fs.readFileSync(path.join(ROOT, 'src/extension', name), 'utf8'))
  .join('\n');

describe('the extension manifest', () => {
  it('contributes every Backfill command, in the Backfill category, and the code registers each one', () => {
    const commands: { command: string; category: string }[] = manifest.contributes.commands;
    const ids = commands.map((c) => c.command).sort();
    assert.deepEqual(ids, [
      'backfill.changeRate',
      'backfill.dryRunCell',
      'backfill.execute',
      'backfill.newRunbook',
      'backfill.pause',
      'backfill.resendUnverified',
      'backfill.resume',
      'backfill.retryFailed',
      'backfill.runInProduction',
      'backfill.selectEnvironment',
      'backfill.selectProductionEnvironment',
      'backfill.showLedger',
      'backfill.stop',
      'backfill.toggleChecklistItem',
    ]);
    for (const command of commands) {
      assert.equal(command.category, 'Backfill', command.command);
      const registered = new RegExp(
        `(?:registerCommand|command|register)\\(\\s*'${command.command.replace('.', '\\.')}'`,
      );
      assert.match(source, registered, `${command.command} is registered`);
    }
  });

  it('declares the notebook type, the renderer contract and the cell menu', () => {
    assert.equal(manifest.main, './dist/extension.js');
    assert.deepEqual(manifest.contributes.notebooks, [
      { type: 'backfill', displayName: 'Backfill Runbook', selector: [{ filenamePattern: '*.backfill' }] },
    ]);
    assert.deepEqual(manifest.contributes.notebookRenderer, [
      {
        id: 'backfill-renderer',
        displayName: 'Backfill',
        entrypoint: './dist/renderer.js',
        mimeTypes: [
          'application/vnd.backfill.dry-run+json',
          'application/vnd.backfill.progress+json',
          'application/vnd.backfill.verify+json',
          'application/vnd.backfill.checklist+json',
        ],
        requiresMessaging: 'optional',
      },
    ]);
    const cellMenu = manifest.contributes.menus['notebook/cell/title'];
    assert.ok(cellMenu.some((m: { command: string }) => m.command === 'backfill.runInProduction'));
    // The palette offers the real-run action of the environment in use, never the other one.
    const palette = manifest.contributes.menus.commandPalette as { command: string; when: string }[];
    const when = (command: string) => palette.find((m) => m.command === command)?.when;
    assert.equal(when('backfill.execute'), 'notebookType == backfill && !backfill.activeRunbookInProduction');
    assert.equal(
      when('backfill.runInProduction'),
      'notebookType == backfill && backfill.activeRunbookInProduction',
    );
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  });

  it('pins the VS Code API to what code-server 4.96.4 runs', () => {
    assert.equal(manifest.engines.vscode, '^1.96.0');
    assert.equal(manifest.devDependencies['@types/vscode'], '~1.96.0');
  });

  it('names every setting backfill.<area>.<key> and reads it in settings.ts', () => {
    const settings = fs.readFileSync(path.join(ROOT, 'src/extension/settings.ts'), 'utf8');
    for (const key of Object.keys(manifest.contributes.configuration.properties)) {
      assert.match(key, /^backfill\.[a-z]+\.[a-zA-Z]+$/);
      assert.ok(settings.includes(`'${key.slice('backfill.'.length)}'`), `${key} is read in settings.ts`);
    }
  });
});
