/**
 * The `backfill` command line, as the extension runs it: the CLI bundled beside the extension
 * (dist/cli.js), run with the editor's own Node. Secrets reach it only through its environment.
 *
 * - a dry run is a child process the extension waits for (cancelling it kills it);
 * - a real run is started in its own process group with its output in files, so closing or reloading
 *   the window never stops it; the extension follows it through `<runbook>.d/status.json`;
 * - the CLI never writes the runbook for the extension (`--no-write-result`): the extension puts the
 *   result into the notebook, which stays the one writer of its file.
 *
 * This file does not import vscode: it is a seam the rest of the extension uses through `Cli`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExitCode } from '../cli/exitCodes';
import type { DryRunReport } from '../core/dryrun/dryRun';
import { STATE_DIR_VARIABLE, stateDirFor } from '../core/ledger/statePaths';

/** What the CLI printed and how it exited. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface DryRunRequest {
  file: string;
  cell: string;
  environment: string;
  secrets: Record<string, string>;
  /** Who is acting (identity.ts), recorded as the dry run's operator. */
  operator?: string;
  signal?: AbortSignal;
}

export type DryRunOutcome = CliResult & { report?: DryRunReport };

export interface RunRequest {
  file: string;
  cell: string;
  environment: string;
  secrets: Record<string, string>;
  /**
   * `execute` adds `--execute`; `production` adds `--production --confirm NAME`; `verify` (a verify cell,
   * which only reads) adds `--production` for a production environment only.
   */
  mode:
    { kind: 'execute' } | { kind: 'production'; confirm: string } | { kind: 'verify'; production: boolean };
  /** `--only failed` (Retry Failed Records) or `--only unverified` (re-send the gaps a verification found). */
  only?: 'failed' | 'unverified';
  /** Who is acting (identity.ts), recorded as the run's operator. */
  operator?: string;
  /** Start a new chain instead of refusing a cell whose latest run finished. */
  restart?: boolean;
}

export interface StartedRun {
  pid: number;
  /** Resolves when the process exits (only while this extension host lives). */
  exited: Promise<RunExit>;
}

/** How a real run's process ended, with its `--json` result when it printed one. */
export interface RunExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  result?: { outcome?: string; reason?: string };
  /** The end of its log (stderr), for messages. */
  log: string;
}

export interface Cli {
  dryRun(request: DryRunRequest): Promise<DryRunOutcome>;
  startRun(request: RunRequest): StartedRun;
  ledger(file: string, format: 'csv' | 'jsonl'): Promise<CliResult>;
}

/** The bundled CLI, run with this process's Node (Electron runs as Node with ELECTRON_RUN_AS_NODE). */
export class BundledCli implements Cli {
  constructor(private readonly cliPath: string) {}

  async dryRun(request: DryRunRequest): Promise<DryRunOutcome> {
    const args = ['dry-run', request.file, '--cell', request.cell, ...envArgs(request.environment)];
    const result = await this.capture(
      [...args, '--json', '--no-progress', '--no-write-result'],
      { ...request.secrets, ...operatorEnv(request.operator) },
      path.dirname(request.file),
      request.signal,
    );
    // A dry run that passed (0) or found problems (1) printed its report.
    if (result.exitCode !== ExitCode.ok && result.exitCode !== ExitCode.belowThreshold) return result;
    try {
      return { ...result, report: JSON.parse(result.stdout) as DryRunReport };
    } catch {
      return result;
    }
  }

  startRun(request: RunRequest): StartedRun {
    const stateDir = stateDirFor(request.file);
    fs.mkdirSync(stateDir, { recursive: true });
    const logFile = path.join(stateDir, 'run.log');
    const resultFile = path.join(stateDir, 'run-result.json');
    const log = fs.openSync(logFile, 'a');
    const out = fs.openSync(resultFile, 'w');
    const mode = modeArgs(request.mode);
    const args = [
      ...['run', request.file, '--cell', request.cell, ...envArgs(request.environment), ...mode],
      ...(request.only ? ['--only', request.only] : []),
      ...(request.restart ? ['--restart'] : []),
      ...['--json', '--no-progress', '--no-write-result'],
    ];
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [this.cliPath, ...args], {
        cwd: path.dirname(request.file),
        env: childEnvironment({ ...request.secrets, ...operatorEnv(request.operator) }),
        // Its own process group, output in files: nothing ties it to this window.
        detached: true,
        stdio: ['ignore', out, log],
      });
    } finally {
      fs.closeSync(log);
      fs.closeSync(out);
    }
    child.unref();
    const exited = new Promise<RunExit>((resolve) => {
      const finish = (exitCode: number | null, signal: NodeJS.Signals | null) =>
        resolve({ exitCode, signal, ...readResult(resultFile), log: tailOf(logFile) });
      child.once('exit', finish);
      child.once('error', (error) => resolve({ exitCode: null, signal: null, log: error.message }));
    });
    return { pid: child.pid ?? -1, exited };
  }

  ledger(file: string, format: 'csv' | 'jsonl'): Promise<CliResult> {
    return this.capture(['ledger', file, '--status', 'failed', '--format', format], {}, path.dirname(file));
  }

  private capture(
    args: string[],
    secrets: Record<string, string>,
    cwd: string,
    signal?: AbortSignal,
  ): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [this.cliPath, ...args], {
        cwd,
        env: childEnvironment(secrets),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const abort = () => child.kill('SIGTERM');
      signal?.addEventListener('abort', abort, { once: true });
      child.once('error', (error) => resolve({ exitCode: 70, stdout, stderr: stderr + error.message }));
      child.once('close', (code) => {
        signal?.removeEventListener('abort', abort);
        resolve({ exitCode: code ?? 70, stdout, stderr });
      });
    });
  }
}

function modeArgs(mode: RunRequest['mode']): string[] {
  switch (mode.kind) {
    case 'execute':
      return ['--execute'];
    case 'production':
      return ['--production', '--confirm', mode.confirm];
    case 'verify':
      return mode.production ? ['--production'] : [];
  }
}

function envArgs(environment: string): string[] {
  return environment === '' ? [] : ['--env', environment];
}

/** The editor's environment, run as plain Node, plus the secrets of this run: never a file, never argv. */
/** The runner records BACKFILL_OPERATOR as the operator of what it runs. */
function operatorEnv(operator: string | undefined): Record<string, string> {
  return operator ? { BACKFILL_OPERATOR: operator } : {};
}

function childEnvironment(secrets: Record<string, string>): NodeJS.ProcessEnv {
  // The editor watches the state folder beside the runbook: a BACKFILL_STATE_DIR the editor inherited
  // from a shell must not move the runner's elsewhere.
  const inherited = { ...process.env };
  delete inherited[STATE_DIR_VARIABLE];
  return { ...inherited, ELECTRON_RUN_AS_NODE: '1', ...secrets };
}

function readResult(file: string): { result?: RunExit['result'] } {
  try {
    return { result: JSON.parse(fs.readFileSync(file, 'utf8')) as RunExit['result'] };
  } catch {
    return {};
  }
}

function tailOf(file: string, bytes = 4000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}
