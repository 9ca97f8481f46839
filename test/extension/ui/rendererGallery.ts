// A page that hosts the renderer the way VS Code's output webview does, without VS Code: the bundle is
// imported as an ES module, activated with a stand-in context, and handed output items and elements.
// The page's colours are real theme variables captured from code-server (test/fixtures/renderer/themes.json,
// refreshed by captureThemeColors.ts), so screenshots show what a user of that theme sees.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT } from '../harness/codeServer';

export type ThemeName = 'dark' | 'light' | 'high-contrast' | 'high-contrast-light';

interface ThemeColors {
  theme: string;
  bodyClass: string;
  vars: Record<string, string>;
}

const ORIGIN = 'http://renderer-gallery.test';
const BUNDLE = path.join(REPO_ROOT, '.vscode-test/out/ui/renderer.js');

/** Builds media/renderer/index.ts exactly as the extension ships it: one ES module for the browser. */
export async function buildRenderer(): Promise<string> {
  await build({
    entryPoints: [path.join(REPO_ROOT, 'media/renderer/index.ts')],
    outfile: BUNDLE,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    logLevel: 'warning',
  });
  return BUNDLE;
}

export function themeColors(theme: ThemeName): ThemeColors {
  const themes = JSON.parse(
    readFileSync(path.join(REPO_ROOT, 'test/fixtures/renderer/themes.json'), 'utf8'),
  ) as Record<ThemeName, ThemeColors>;
  return themes[theme];
}

/** Served from a made-up origin through request interception: nothing listens, nothing leaves the machine. */
export async function openGallery(browser: Browser, bundle: string): Promise<GalleryPage> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/renderer.js')
      return route.fulfill({ contentType: 'text/javascript', body: readFileSync(bundle, 'utf8') });
    return route.fulfill({ contentType: 'text/html', body: GALLERY_HTML });
  });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => 'gallery' in window);
  const gallery = new GalleryPage(page, errors);
  await gallery.setTheme('dark');
  return gallery;
}

export class GalleryPage {
  constructor(
    readonly page: Page,
    /** Uncaught exceptions in the page: a renderer bug shows up here even when the view looks fine. */
    readonly errors: string[],
  ) {}

  /** Renders (or re-renders, into the same element) one output item, as VS Code does. */
  async render(outputId: string, mime: string, payload: unknown): Promise<void> {
    await this.page.evaluate(
      ([id, type, value]) => (window as unknown as GalleryWindow).gallery.render(id, type, value),
      [outputId, mime, payload] as const,
    );
  }

  async renderText(outputId: string, mime: string, text: string): Promise<void> {
    await this.page.evaluate(
      ([id, type, value]) => (window as unknown as GalleryWindow).gallery.renderText(id, type, value),
      [outputId, mime, text] as const,
    );
  }

  async posted(): Promise<unknown[]> {
    return this.page.evaluate(() => (window as unknown as GalleryWindow).gallery.posted);
  }

  async setTheme(theme: ThemeName): Promise<void> {
    const colors = themeColors(theme);
    await this.page.evaluate((theme) => {
      const root = document.documentElement;
      root.removeAttribute('style');
      for (const [name, value] of Object.entries(theme.vars)) root.style.setProperty(name, value);
      document.body.className = theme.bodyClass;
    }, colors);
  }
}

interface GalleryWindow {
  gallery: {
    posted: unknown[];
    render(id: string, mime: string, payload: unknown): void;
    renderText(id: string, mime: string, text: string): void;
  };
}

const GALLERY_HTML = `<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <style>
    body { margin: 0; padding: 12px 20px; background: var(--vscode-editor-background); }
    .output { padding: 4px 0 16px; }
  </style>
</head>
<body>
  <main id="outputs"></main>
  <script type="module">
    import { activate } from '/renderer.js';
    const posted = [];
    const api = await activate({
      postMessage: (message) => posted.push(message),
      setState() {},
      getState: () => undefined,
      getRenderer: async () => undefined,
      workspace: { isTrusted: true },
    });
    function item(id, mime, text) {
      return {
        id, mime, metadata: undefined,
        text: () => text,
        json: () => JSON.parse(text),
        data: () => new TextEncoder().encode(text),
        blob: () => new Blob([text], { type: mime }),
      };
    }
    function elementFor(id) {
      let element = document.getElementById(id);
      if (!element) {
        element = document.createElement('div');
        element.id = id;
        element.className = 'output';
        document.getElementById('outputs').append(element);
      }
      return element;
    }
    window.gallery = {
      posted,
      render: (id, mime, payload) => api.renderOutputItem(item(id, mime, JSON.stringify(payload)), elementFor(id), new AbortController().signal),
      renderText: (id, mime, text) => api.renderOutputItem(item(id, mime, text), elementFor(id), new AbortController().signal),
    };
  </script>
</body>
</html>`;
