// The notebook as a person drives it in the browser: open a runbook from the Explorer, find a cell by
// its text, press its Run button, read what the renderer drew inside the output webview.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';

/** Double-click in the Explorer: keyboard shortcuts are unreliable before the editor has focus. */
export async function openRunbook(page: Page, name: string): Promise<Locator> {
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.getByRole('treeitem', { name, exact: true }).dblclick();
  const editor = page.locator('.notebook-editor');
  await editor.locator('.cell-list-container').waitFor({ timeout: 30_000 });
  return editor;
}

/**
 * The code cell whose editor shows `text`, scrolled into view. The cell list is virtualised and scrolls
 * by its own means (not the DOM's), so this turns the mouse wheel until the cell sits in the viewport: a
 * cell not drawn yet may be above or below, so the wheel turns down until the list stops moving, then up.
 */
export async function findCodeCell(
  page: Page,
  text: string | ((cells: Locator) => Locator),
): Promise<Locator> {
  const cells = page.locator('.notebook-editor .code-cell-row');
  const cell = (typeof text === 'string' ? cells.filter({ hasText: text }) : text(cells)).first();
  const list = page.locator('.notebook-editor .cell-list-container').first();
  // Where the list's rows are: unmoved after a turn of the wheel means the list is at an end.
  const rows = list.locator('.monaco-list-row');
  const position = async () =>
    rows.evaluateAll((all) =>
      all.map((row) => `${row.getAttribute('data-index')}@${row.getBoundingClientRect().top}`).join(),
    );
  const viewport = page.viewportSize() ?? { width: 1400, height: 900 };
  let direction = 1;
  for (let attempt = 0; attempt < 120; attempt += 1) {
    const box = (await cell.count()) > 0 ? await cell.boundingBox() : null;
    if (box && box.y > 120 && box.y + Math.min(box.height, 200) < viewport.height - 60) return cell;
    if (box) direction = box.y < 120 ? -1 : 1;
    const before = await position();
    await list.hover();
    await page.mouse.wheel(0, 250 * direction);
    await page.waitForTimeout(80);
    if (!box && before === (await position())) {
      await page.waitForTimeout(250); // a slow frame, or the end of the list?
      if (before === (await position())) direction = -direction;
    }
  }
  throw new Error(`no cell showing ${typeof text === 'string' ? `"${text}"` : 'that'} came into view`);
}

/** Runs a command from the Command Palette (F1), as a user does. */
export async function runCommand(page: Page, label: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.fill(`>${label}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().click();
}

/** Presses the cell's own Run button (the ▶ in its left gutter). */
export async function runCell(cell: Locator): Promise<void> {
  // The button shows on the hovered (or focused) cell only.
  await cell.hover();
  await cell
    .getByRole('button', { name: /Execute Cell/ })
    .first()
    .click();
}

/** The frame the notebook's outputs are rendered in (the output webview's inner iframe). */
export function outputFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview').frameLocator('iframe');
}

/**
 * Picks a colour theme as a user does (Command Palette → Preferences: Color Theme). A theme in the
 * workspace's settings is not applied in an Extension Development Host window, so tests cannot use that.
 */
export async function selectColorTheme(page: Page, label: string, themeClass: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.fill('>Preferences: Color Theme');
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: 'Preferences: Color Theme' })
    .first()
    .click();
  await input.fill(label);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().click();
  await page.locator(`.monaco-workbench.${themeClass}`).waitFor({ timeout: 30_000 });
}

/**
 * Presses a button of the cell's toolbar (Run in Production… and the like). The toolbar shows on the
 * selected cell: a click in its editor selects it, Escape leaves the editor so typing goes nowhere.
 */
export async function pressCellAction(cell: Locator, name: string | RegExp): Promise<void> {
  await cell.locator('.monaco-editor').first().click();
  await cell.page().keyboard.press('Escape');
  await cell.hover();
  await cell.getByRole('button', { name }).first().click();
}

/** The status bar item showing the active runbook's environment (see environmentIndicator.ts). */
export function environmentItem(page: Page): Locator {
  return page.locator('.statusbar-item[id$="backfill.environment"]');
}

/**
 * Makes `name` the runbook's environment as a user does (status bar item → quick pick), unless it is
 * already, so that a test never depends on the environment an earlier test left behind.
 */
export async function useEnvironment(page: Page, name: string): Promise<void> {
  const item = environmentItem(page);
  await item.waitFor({ timeout: 30_000 });
  const shows = new RegExp(`^\\s*(PRODUCTION: )?${name}\\s*$`);
  if (shows.test((await item.textContent()) ?? '')) return;
  await item.click();
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  await item.filter({ hasText: shows }).waitFor({ timeout: 30_000 });
}

/** The label of the button a modal dialog has focused: the one Enter presses. */
export async function focusedDialogButton(page: Page): Promise<string> {
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 30_000 });
  return dialog.evaluate((box) => {
    const active = box.ownerDocument.activeElement;
    return active && box.contains(active) ? (active.textContent ?? '').trim() : '';
  });
}

/** Answers a modal dialog (the run confirmation) with the button of that name. */
export async function answerDialog(page: Page, button: string): Promise<string> {
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 30_000 });
  const message = (await dialog.textContent()) ?? '';
  await dialog.getByRole('button', { name: button, exact: true }).click();
  return message;
}

/**
 * The whole window, then the output on its own. The output lives in a webview that VS Code positions
 * under the notebook's own scrolling, so an element screenshot cannot scroll to it: the window is made
 * tall enough for the whole output, the notebook is wheeled until the output's top is near the top, and
 * the page is captured at the output's box.
 */
export async function screenshotOutput(page: Page, output: Locator, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file.replace(/\.png$/, '-window.png') });
  const normal = page.viewportSize() ?? { width: 1400, height: 900 };
  await page.setViewportSize({ width: normal.width, height: 2200 });
  try {
    const box = await revealInNotebook(page, output);
    if (!box) throw new Error(`the output for ${path.basename(file)} is not on the page`);
    const height = Math.min(box.height + 16, 2200 - box.y);
    await page.screenshot({
      path: file,
      clip: { x: box.x - 8, y: box.y - 8, width: box.width + 16, height },
    });
  } finally {
    await page.setViewportSize(normal);
  }
  console.log(`      screenshot ${path.relative(process.cwd(), file)} (and -window.png)`);
}

/**
 * Wheels the notebook until `element` (inside an output) has its top near the top of the window and
 * returns its box. Outputs are drawn in a webview under the notebook's own scrolling, which Playwright's
 * scroll-into-view does not move, so a click on an element below the fold would land on nothing.
 */
export async function revealInNotebook(page: Page, element: Locator): Promise<Box | null> {
  const list = page.locator('.notebook-editor .cell-list-container').first();
  let box = await element.boundingBox();
  for (let attempt = 0; attempt < 40 && box && (box.y < 100 || box.y > 180); attempt += 1) {
    await list.hover();
    await page.mouse.wheel(0, Math.max(-400, Math.min(400, box.y - 140)));
    await page.waitForTimeout(120);
    box = await element.boundingBox();
  }
  return box;
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
