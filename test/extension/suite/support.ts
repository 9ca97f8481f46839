// Helpers for the extension's integration tests, which run inside a real VS Code (code-server) with the
// real `vscode` API: a fresh copy of the demo runbook per test, pointed at a real local orders service.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  startOrdersService,
  type OrdersService,
  type OrdersServiceOptions,
} from '../../../src/demo/ordersService';
import { stateDirFor } from '../../../src/core/ledger/statePaths';
import { readStatus, type RunStatus } from '../../../src/core/run/runStatus';
import type { BackfillTestApi } from '../../../src/extension/extension';
import type { Prompts } from '../../../src/extension/prompts';

export const EXTENSION_ID = 'backfill-runbooks.backfill-runbooks';
export const CONTROLLER_ID = 'backfill-controller';
export const TOKEN = 'test-token-6f1c2a9d84';

export const MIME = {
  dryRun: 'application/vnd.backfill.dry-run+json',
  progress: 'application/vnd.backfill.progress+json',
  checklist: 'application/vnd.backfill.checklist+json',
  verify: 'application/vnd.backfill.verify+json',
  error: 'application/vnd.code.notebook.error',
};

let counter = 0;

export interface Fixture {
  dir: string;
  file: string;
  uri: vscode.Uri;
  server: OrdersService;
}

export async function extensionApi(): Promise<BackfillTestApi> {
  const extension = vscode.extensions.getExtension<BackfillTestApi>(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is loaded`);
  const api = await extension.activate();
  assert.ok(api, 'the extension returns its test API in test mode');
  return api;
}

/** Answers every question the extension asks, as a user who says yes to everything but `overrides`. */
export async function answer(overrides: Partial<Prompts> = {}): Promise<vscode.Disposable> {
  const api = await extensionApi();
  return api.setPrompts({
    askSecret: async () => TOKEN,
    confirmRun: async () => true,
    confirmSignOffFor: async () => true,
    ...overrides,
  });
}

/**
 * Copies runbooks/demo.backfill and its data into a fresh folder of the workspace, with both of its
 * environments pointed at a new local orders service, so anything sent — even to "production" — lands
 * there and can be counted.
 */
export async function demoFixture(
  edit: (text: string) => string = (t) => t,
  service: OrdersServiceOptions = {},
): Promise<Fixture> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
  const runbooks = path.join(extension.extensionPath, 'runbooks');
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(workspace, 'the harness opens a workspace folder');
  counter += 1;
  const dir = path.join(workspace, `case-${process.pid}-${counter}`);
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.copyFileSync(path.join(runbooks, 'data/orders.csv'), path.join(dir, 'data/orders.csv'));
  const server = await startOrdersService({ latencyMs: 5, ...service });
  const text = fs
    .readFileSync(path.join(runbooks, 'demo.backfill'), 'utf8')
    .replace('http://127.0.0.1:8080', server.url)
    .replace('https://orders.example.internal', server.url);
  const file = path.join(dir, 'demo.backfill');
  fs.writeFileSync(file, edit(text));
  return { dir, file, uri: vscode.Uri.file(file), server };
}

/** Opens a runbook in a notebook editor the way a user does (no extra reference held by the test). */
export async function openRunbook(uri: vscode.Uri): Promise<vscode.NotebookDocument> {
  await vscode.commands.executeCommand('vscode.openWith', uri, 'backfill');
  await waitFor(
    () => vscode.window.activeNotebookEditor?.notebook.uri.toString() === uri.toString(),
    'the editor',
  );
  const notebook = vscode.window.activeNotebookEditor!.notebook;
  await vscode.commands.executeCommand('notebook.selectKernel', {
    id: CONTROLLER_ID,
    extension: EXTENSION_ID,
  });
  return notebook;
}

export function cellById(notebook: vscode.NotebookDocument, id: string): vscode.NotebookCell {
  const cell = notebook
    .getCells()
    .find((c) => (c.metadata as { backfill?: { id?: string } }).backfill?.id === id);
  assert.ok(cell, `cell ${id}`);
  return cell;
}

export async function executeCell(cell: vscode.NotebookCell): Promise<void> {
  await vscode.commands.executeCommand('notebook.cell.execute', {
    ranges: [{ start: cell.index, end: cell.index + 1 }],
    document: cell.notebook.uri,
  });
}

/** The JSON of the first output item of this mime type, if the cell shows one. */
export function outputJson<T>(cell: vscode.NotebookCell, mime: string): T | undefined {
  for (const output of cell.outputs) {
    for (const item of output.items) {
      if (item.mime === mime) return JSON.parse(new TextDecoder().decode(item.data)) as T;
    }
  }
  return undefined;
}

export function outputText(cell: vscode.NotebookCell): string {
  return cell.outputs
    .flatMap((o) => o.items)
    .map((item) => new TextDecoder().decode(item.data))
    .join('\n');
}

export function progressOf(cell: vscode.NotebookCell): RunStatus | undefined {
  return outputJson<{ status: RunStatus }>(cell, MIME.progress)?.status;
}

export function statusOf(file: string): RunStatus | undefined {
  return readStatus(stateDirFor(file));
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** POSTs the service received (the writes), by order id. */
export function posted(server: OrdersService): string[] {
  return server.received
    .filter((r) => r.method === 'POST')
    .map((r) => decodeURIComponent(r.url.split('/')[2]!));
}

/** Leaves no editor open and no run going after a test. */
export async function cleanUp(fixture: Fixture | undefined): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.files.saveAll');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  if (!fixture) return;
  const status = statusOf(fixture.file);
  if (status && status.state !== 'finished' && status.state !== 'halted') {
    try {
      process.kill(status.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await fixture.server.stop();
}

/** Every file under `dir`, as text, to check that a secret was written nowhere. */
export function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const name of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const file = path.join(dir, name);
    if (fs.statSync(file).isFile() && fs.readFileSync(file).includes(needle)) found.push(name);
  }
  return found;
}
