// A runbook opened in a folder its reader does not trust: it reads like any other, but nothing runs — not
// even a dry run, which would read a source that may sit anywhere on the machine (here, outside the
// runbook's folder). VS Code asks whether to trust the folder, as it does for one it has not seen, and
// asks again before any cell executes; the extension's own refusal (UNTRUSTED_MESSAGE) stands behind it.
//
//   npm run test:ui   (needs scripts/install-code-server.sh once)
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../harness/codeServer';
import { openVsCode, type VsCodeSession } from '../harness/runInCodeServer';
import { findCodeCell, openRunbook, outputFrame, runCell } from './notebookPage';

const SCREENSHOTS = path.join(REPO_ROOT, 'test-output/ui');

describe('a runbook in an untrusted workspace (code-server + Chromium)', function () {
  this.timeout(180_000);
  let session: VsCodeSession | undefined;
  let scratch: string;
  let runbook: string;

  before(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'backfill-untrusted-'));
    const workspace = path.join(scratch, 'workspace');
    await cp(path.join(REPO_ROOT, 'runbooks'), workspace, { recursive: true });
    // The source lives outside the workspace: what an untrusted runbook must not get to read.
    const elsewhere = path.join(scratch, 'elsewhere');
    await mkdir(elsewhere);
    await cp(path.join(workspace, 'data', 'orders.csv'), path.join(elsewhere, 'orders.csv'));
    runbook = path.join(workspace, 'demo.backfill');
    const text = await readFile(runbook, 'utf8');
    const moved = text.replace('path: data/orders.csv', `path: ${path.join(elsewhere, 'orders.csv')}`);
    assert.notEqual(moved, text);
    await writeFile(runbook, moved);
    await mkdir(SCREENSHOTS, { recursive: true });
    session = await openVsCode({ workspace, extensionDevelopmentPath: REPO_ROOT, workspaceTrust: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    await session?.page
      .screenshot({ path: path.join(SCREENSHOTS, 'failure-untrusted-workspace.png') })
      .catch(() => undefined);
  });

  after(async () => {
    await session?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('opens the runbook, and a dry run asks for trust first: cancelled, nothing runs or is written', async () => {
    const { page } = session!;
    // VS Code asks about a folder it has not seen; the reader says no.
    await page.getByRole('button', { name: /No, I don.t trust the authors/ }).click({ timeout: 60_000 });
    await page
      .locator('.statusbar-item', { hasText: 'Restricted Mode' })
      .first()
      .waitFor({ timeout: 30_000 });
    const before = await readFile(runbook, 'utf8');
    await openRunbook(page, 'demo.backfill');
    await runCell(await findCodeCell(page, 'seed: 7'));
    // VS Code stops the execution before it reaches the extension and asks; the reader cancels.
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Do you trust the authors' });
    await dialog.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'untrusted-dry-run-asks.png') });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    // Nothing ran: no dry-run preview, no ledger, no result block written into the runbook.
    assert.equal(await outputFrame(page).locator('.bf-dry-run').count(), 0);
    assert.equal(existsSync(path.join(`${runbook}.d`, 'ledger.sqlite')), false);
    assert.equal(await readFile(runbook, 'utf8'), before);
    assert.ok(await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().isVisible());
  });
});
