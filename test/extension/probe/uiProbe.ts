// Layer 4 in miniature: open the probe notebook in the browser, press a cell's Run button, read the
// output the notebook renders (inside the output webview's nested iframe) and screenshot it.
import type { Page } from 'playwright-core';
import { openVsCode } from '../harness/runInCodeServer';

export interface UiProbeOptions {
  extensionPath: string;
  workspace: string;
  screenshot: string;
}

export async function runUiProbe(options: UiProbeOptions): Promise<void> {
  const session = await openVsCode({
    workspace: options.workspace,
    extensionDevelopmentPath: options.extensionPath,
  });
  try {
    const { page } = session;
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await openFile(page, 'sample.probe');
    await page.locator('.notebook-editor .cell-list-container').waitFor();
    await page
      .getByRole('button', { name: /Execute Cell/ })
      .first()
      .click();
    const output = page.frameLocator('iframe.webview').frameLocator('iframe').getByText('echo: hello');
    await output.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: options.screenshot });
  } catch (error) {
    await session.page
      .screenshot({ path: options.screenshot.replace(/\.png$/, '-failure.png') })
      .catch(() => undefined);
    throw error;
  } finally {
    await session.stop();
  }
}

/** Through the Explorer, as a person would; keyboard shortcuts are unreliable before the editor has focus. */
async function openFile(page: Page, name: string): Promise<void> {
  await page.getByRole('treeitem', { name }).dblclick();
}
