// Refreshes test/fixtures/renderer/themes.json: the theme colours VS Code gives a notebook output webview,
// read from code-server's own output iframe for each built-in theme, so the renderer gallery paints with
// real values. Run it when styles.css starts using a new --vscode-* variable.
//
//   npx tsx test/extension/ui/captureThemeColors.ts   (≈35 s: one code-server per theme)
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleForExtensionHost } from '../harness/bundle';
import { REPO_ROOT } from '../harness/codeServer';
import { openVsCode } from '../harness/runInCodeServer';

const THEMES = {
  dark: 'Default Dark Modern',
  light: 'Default Light Modern',
  'high-contrast': 'Default High Contrast',
  'high-contrast-light': 'Default High Contrast Light',
};
const SCRATCH = path.join(REPO_ROOT, '.vscode-test/out/theme-colors');
const PROBE = path.join(REPO_ROOT, 'test/extension/probe');

async function main(): Promise<void> {
  const used = await variablesUsedByStyles();
  const extension = await stageProbeExtension();
  const captured: Record<string, { theme: string; bodyClass: string; vars: Record<string, string> }> = {};
  for (const [name, theme] of Object.entries(THEMES)) {
    const { bodyClass, vars } = await captureTheme(theme, extension);
    const kept = Object.fromEntries(Object.entries(vars).filter(([variable]) => used.has(variable)));
    captured[name] = { theme, bodyClass, vars: Object.fromEntries(Object.entries(kept).sort()) };
    console.log(`${theme}: ${Object.keys(kept).length} of ${used.size} variables defined`);
  }
  const file = path.join(REPO_ROOT, 'test/fixtures/renderer/themes.json');
  await writeFile(file, JSON.stringify(captured, null, 2) + '\n');
  console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
}

/** The probe extension's output is enough: every output webview gets the same theme variables. */
async function captureTheme(
  theme: string,
  extension: string,
): Promise<{ bodyClass: string; vars: Record<string, string> }> {
  const workspace = path.join(SCRATCH, 'workspace');
  await rm(workspace, { recursive: true, force: true });
  await mkdir(path.join(workspace, '.vscode'), { recursive: true });
  await cp(path.join(PROBE, 'workspace/sample.probe'), path.join(workspace, 'sample.probe'));
  await writeFile(
    path.join(workspace, '.vscode/settings.json'),
    JSON.stringify({ 'workbench.colorTheme': theme }),
  );
  const session = await openVsCode({ workspace, extensionDevelopmentPath: extension });
  try {
    const { page } = session;
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.getByRole('treeitem', { name: 'sample.probe' }).dblclick();
    await page
      .getByRole('button', { name: /Execute Cell/ })
      .first()
      .click();
    const output = page.frameLocator('iframe.webview').frameLocator('iframe');
    await output.getByText('echo: hello').waitFor({ timeout: 30_000 });
    return await output.locator('html').evaluate((html) => {
      const vars: Record<string, string> = {};
      for (const name of Array.from(html.style)) vars[name] = html.style.getPropertyValue(name).trim();
      return { bodyClass: document.body.className, vars };
    });
  } finally {
    await session.stop();
  }
}

async function variablesUsedByStyles(): Promise<Set<string>> {
  const css = await readFile(path.join(REPO_ROOT, 'media/renderer/styles.css'), 'utf8');
  // The gallery page paints its own background with the editor's.
  return new Set([...(css.match(/--vscode-[\w-]+/g) ?? []), '--vscode-editor-background']);
}

async function stageProbeExtension(): Promise<string> {
  const dir = path.join(SCRATCH, 'extension');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await cp(path.join(PROBE, 'package.json'), path.join(dir, 'package.json'));
  await bundleForExtensionHost(path.join(PROBE, 'extension.ts'), path.join(dir, 'extension.js'));
  return dir;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
