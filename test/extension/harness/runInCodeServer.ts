// Runs an extension's mocha suite inside a real VS Code (code-server in Debian's Chromium), offline.
// code-server's CLI rejects --extensionDevelopmentPath, but its workbench accepts the same settings as
// a `payload` URL parameter; opening that URL in a browser turns the window into an Extension
// Development Host whose extension host runs the suite and then exits.
//
//   npx tsx test/extension/harness/runInCodeServer.ts --extension <dir> --tests <index.ts|index.js> \
//     --workspace <dir> [--result <file>] [--timeout <ms>] [--screenshots <dir>]
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { bundleForExtensionHost, bundlePathFor } from './bundle';
import { launchChromium } from './chromium';
import type { CodeServer } from './codeServer';
import { REPO_ROOT, startCodeServer, tail, withTimeout } from './codeServer';
import type { TestRunResult } from './testResult';
import { RESULT_FILE_ENV } from './testResult';

export interface VsCodeSessionOptions {
  workspace: string;
  /** Loads the extension from this folder, as F5 does ("dev mode"). */
  extensionDevelopmentPath?: string;
  /** Compiled test index whose `run()` the extension host calls; the host exits when it settles. */
  extensionTestsPath?: string;
  /** Or install packaged extensions, as a user would. */
  vsixFiles?: string[];
  env?: Record<string, string>;
  /** Asks whether to trust the workspace instead of trusting it (see CodeServerOptions). */
  workspaceTrust?: boolean;
}

export interface VsCodeSession {
  page: Page;
  url: string;
  server: CodeServer;
  /** Browser console lines, which include what the extension host logs in dev mode. */
  consoleLog(): string;
  stop(): Promise<void>;
}

export interface ExtensionTestOptions {
  /** The extension folder (its package.json and the built `main`). */
  extensionPath: string;
  /** The compiled test index (CommonJS, exports `run()`). */
  testsPath: string;
  workspace: string;
  /** Removed before the run; code-server.log and browser-console.log are saved beside it. */
  resultFile: string;
  /** Bounds the suite, counted from the extension host's launch (start-up has its own bounds). */
  timeoutMs: number;
  /** Where a screenshot of the workbench goes when the run fails. */
  screenshotDir?: string;
}

/**
 * Starts code-server, opens the workbench in Chromium and resolves once its extension host is running;
 * for UI tests and for {@link runExtensionTests}. Always call `stop()`.
 */
export async function openVsCode(options: VsCodeSessionOptions): Promise<VsCodeSession> {
  const server = await startCodeServer({
    workspace: options.workspace,
    env: options.env,
    vsixFiles: options.vsixFiles,
    workspaceTrust: options.workspaceTrust,
  });
  let browser: Browser | undefined;
  const stop = once(async () => {
    process.removeListener('SIGINT', onSignal).removeListener('SIGTERM', onSignal);
    await browser?.close().catch(() => undefined);
    await server.stop();
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const consoleLines: string[] = [];
    page.on('console', (message) => consoleLines.push(`[${message.type()}] ${message.text()}`));
    const url = workbenchUrl(server, options);
    await page.goto(url);
    // Until then the workbench knows no extension contributions: a notebook would open as plain text.
    await withTimeout(server.waitForLog(/Launched Extension Host Process/), 60_000, 'the extension host');
    return { page, url, server, consoleLog: () => consoleLines.join('\n'), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs the suite, prints each test and a summary, and returns the result; throws if it never reports. */
export async function runExtensionTests(options: ExtensionTestOptions): Promise<TestRunResult> {
  const resultFile = path.resolve(options.resultFile);
  await rm(resultFile, { force: true });
  const session = await openVsCode({
    workspace: path.resolve(options.workspace),
    extensionDevelopmentPath: path.resolve(options.extensionPath),
    extensionTestsPath: path.resolve(options.testsPath),
    env: { [RESULT_FILE_ENV]: resultFile },
  });
  let result: TestRunResult | undefined;
  try {
    result = await withTimeout(
      waitForResult(session.server, resultFile),
      options.timeoutMs,
      'the extension tests',
    );
    printResult(result);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\ncode-server log:\n${tail(session.server.log())}`);
  } finally {
    if (!result || result.failed > 0) await screenshot(session.page, options.screenshotDir);
    await saveLogs(session, path.dirname(resultFile));
    await session.stop();
  }
}

function workbenchUrl(server: CodeServer, options: VsCodeSessionOptions): string {
  // Paths in the payload are URIs on the server, which the browser knows as this remote authority.
  const remote = (file: string): string => `vscode-remote://127.0.0.1:${server.port}${path.resolve(file)}`;
  const payload: [string, string][] = [];
  if (options.extensionDevelopmentPath)
    payload.push(['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)]);
  if (options.extensionTestsPath) payload.push(['extensionTestsPath', remote(options.extensionTestsPath)]);
  const query = new URLSearchParams({ folder: path.resolve(options.workspace) });
  if (payload.length > 0) query.set('payload', JSON.stringify(payload));
  return `${server.origin}/?${query.toString()}`;
}

/** The result file normally comes first; an extension host exit without one means run() never wrote it. */
async function waitForResult(server: CodeServer, resultFile: string): Promise<TestRunResult> {
  const exited = server.waitForLog(/Extension Host Process exited with code: (\d+)/);
  let exitCode: string | undefined;
  void exited.then((match) => (exitCode = match[1])).catch(() => undefined);
  for (;;) {
    if (existsSync(resultFile)) return JSON.parse(await readFile(resultFile, 'utf8')) as TestRunResult;
    if (exitCode !== undefined) {
      const error = `the extension host exited with code ${exitCode} without writing ${resultFile}`;
      return { passed: 0, failed: 1, failures: [{ title: 'extension host', error }], tests: [] };
    }
    // Rethrows when code-server itself died.
    await Promise.race([exited, delay(200)]);
  }
}

function printResult(result: TestRunResult): void {
  for (const test of result.tests) {
    const mark = { passed: '✓', failed: '✗', pending: '-' }[test.state];
    const duration = test.durationMs === undefined ? '' : ` (${test.durationMs} ms)`;
    console.log(`  ${mark} ${test.title}${duration}`);
  }
  for (const failure of result.failures) console.log(`\n  ✗ ${failure.title}\n${indent(failure.error)}`);
  console.log(`\n${result.passed} passed, ${result.failed} failed`);
}

async function screenshot(page: Page, dir: string | undefined): Promise<void> {
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'extension-tests-failure.png');
  await page.screenshot({ path: file }).then(
    () => console.log(`screenshot: ${file}`),
    () => undefined,
  );
}

/** Kept beside the result file: the first thing to read when a run fails on CI. */
async function saveLogs(session: VsCodeSession, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'code-server.log'), session.server.log());
  await writeFile(path.join(dir, 'browser-console.log'), session.consoleLog());
}

function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
}

function indent(text: string): string {
  return text.replace(/^/gm, '      ');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      extension: { type: 'string' },
      tests: { type: 'string' },
      workspace: { type: 'string' },
      result: { type: 'string', default: path.join(REPO_ROOT, 'test-output/extension/result.json') },
      timeout: { type: 'string', default: '120000' },
      screenshots: { type: 'string' },
    },
  });
  if (!values.extension || !values.tests || !values.workspace) {
    throw new Error('usage: runInCodeServer.ts --extension <dir> --tests <index.ts|js> --workspace <dir>');
  }
  const testsPath = await compiledTests(values.tests);
  const result = await runExtensionTests({
    extensionPath: values.extension,
    testsPath,
    workspace: values.workspace,
    resultFile: values.result,
    timeoutMs: Number(values.timeout),
    screenshotDir: values.screenshots ?? path.dirname(values.result),
  });
  process.exitCode = result.failed > 0 ? 1 : 0;
}

/** A TypeScript index is bundled with its tests into one CommonJS file the extension host can load. */
async function compiledTests(tests: string): Promise<string> {
  if (!tests.endsWith('.ts')) return path.resolve(tests);
  const outfile = bundlePathFor(tests);
  await bundleForExtensionHost(tests, outfile);
  return outfile;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
