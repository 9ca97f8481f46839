// Starts code-server (VS Code 1.96.4 for the browser, installed by scripts/install-code-server.sh) on
// loopback with throwaway user-data and extensions folders, and stops it with everything it spawned.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
const BINARY = path.join(REPO_ROOT, '.vscode-test/code-server/node_modules/.bin/code-server');
const HOST = '127.0.0.1';

/** A quiet, predictable workbench: no welcome page over the editor, nothing fetched in the background. */
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  // Test workspaces sit inside this repository; the prompt to open it would cover the notebook.
  'git.openRepositoryInParentFolders': 'never',
  // VS Code in a browser (code-server included) saves every edit a second after typing stops by default
  // (`files.autoSave` is `afterDelay` on the web, `off` on the desktop). The tests are written for the
  // desktop's default: a cell edited by a test stays unsaved until the test or the extension saves it.
  // Left on, a test's half-typed edit reached the runbook on disk (a later test read it, in CI).
  'files.autoSave': 'off',
};

export interface CodeServerOptions {
  workspace: string;
  /** Added to code-server's environment, which its extension host inherits. */
  env?: Record<string, string>;
  /** Extensions to install into the throwaway extensions folder before starting (.vsix paths). */
  vsixFiles?: string[];
  startTimeoutMs?: number;
  /** Asks whether to trust the workspace, as VS Code does for a folder it has not seen (off by default). */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  port: number;
  origin: string;
  log(): string;
  /** Resolves with the first match of `pattern` in the server's output, waiting for it if needed. */
  waitForLog(pattern: RegExp): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  if (!existsSync(BINARY))
    throw new Error(`code-server is not installed; run scripts/install-code-server.sh`);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'backfill-code-server-'));
  // Its own config file too: the default one lives in the user's home and can override these flags.
  const dirs = [
    ...['--config', path.join(scratch, 'config.yaml'), '--user-data-dir', path.join(scratch, 'user-data')],
    ...['--extensions-dir', path.join(scratch, 'ext')],
  ];
  try {
    await writeUserSettings(path.join(scratch, 'user-data'));
    for (const vsix of options.vsixFiles ?? []) await installExtension(dirs, vsix);
    const port = await freePort();
    const startTimeout = options.startTimeoutMs ?? 30_000;
    const server = launch(port, dirs, options);
    await withTimeout(server.waitForLog(/HTTP server listening on/), startTimeout, 'code-server').catch(
      async (error: unknown) => {
        await server.stop();
        throw error;
      },
    );
    return withScratchRemoval(server, scratch);
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
}

function launch(port: number, dirs: string[], options: CodeServerOptions): CodeServer {
  const args = [
    ...['--auth', 'none', '--bind-addr', `${HOST}:${port}`, ...dirs],
    ...['--disable-telemetry', '--disable-update-check'],
    ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
    options.workspace,
  ];
  // Its own process group, so stop() reaches the extension host and the other processes it forks.
  const child = spawn(BINARY, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // An empty gallery stops lookups on open-vsx.org: unreachable here, and slow to fail on some networks.
    env: { ...process.env, EXTENSIONS_GALLERY: '{}', ...options.env },
  });
  // A detached group survives its parent, so kill it even when the harness dies without cleaning up.
  const killOnExit = (): void => signalGroup(child.pid ?? 0, 'SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    await stopProcessGroup(child);
    process.removeListener('exit', killOnExit);
  };
  return { port, origin: `http://${HOST}:${port}`, ...watchOutput(child), stop };
}

function watchOutput(child: ChildProcess): Pick<CodeServer, 'log' | 'waitForLog'> {
  let text = '';
  let ended = false;
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((listener) => listener());
  const append = (chunk: Buffer): void => {
    text += chunk.toString();
    notify();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const end = (): void => {
    ended = true;
    notify();
  };
  // 'exit', not 'close': the extension host inherits the pipes and can hold them open after the server died.
  child.on('exit', end);
  child.on('error', (error) => {
    text += `\n${error.message}\n`;
    end();
  });

  const waitForLog = (pattern: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = text.match(pattern);
        if (match || ended) listeners.delete(check);
        if (match) resolve(match);
        else if (ended) reject(new Error(`code-server ended before printing ${pattern}:\n${tail(text)}`));
      };
      listeners.add(check);
      check();
    });
  return { log: () => text, waitForLog };
}

async function writeUserSettings(userDataDir: string): Promise<void> {
  await mkdir(path.join(userDataDir, 'User'), { recursive: true });
  await writeFile(path.join(userDataDir, 'User/settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
}

async function installExtension(dirs: string[], vsix: string): Promise<void> {
  const child = spawn(BINARY, [...dirs, '--install-extension', vsix], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`installing ${vsix} into code-server failed:\n${output}`);
}

/** Asks the OS for a free loopback port; code-server binds it right after, so a clash is unlikely. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const running = child.exitCode === null && child.signalCode === null;
  const exited = running ? new Promise<void>((resolve) => child.once('exit', () => resolve())) : undefined;
  signalGroup(child.pid, 'SIGTERM');
  await Promise.race([exited, delay(5_000)]);
  // Also reaches children that ignore SIGTERM or outlived a server that crashed.
  signalGroup(child.pid, 'SIGKILL');
  await exited;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

function withScratchRemoval(server: CodeServer, scratch: string): CodeServer {
  return {
    ...server,
    stop: async () => {
      await server.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Unref'd: a grace period that loses its race must not keep the harness alive. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
