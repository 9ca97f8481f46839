import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, REPO } from './cli';

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** Exit code, or the signal name when killed. */
  exitedWith: Promise<number | string>;
}

/** Starts the real CLI without waiting for it, so a test can steer it (control, signals, kill -9). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watchCli(child);
}

/** Collects the output and exit of a CLI process a test spawned itself (its own user, environment, folder). */
export function watchCli(child: ChildProcess): RunningCli {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exitedWith = new Promise<number | string>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: exitedWith.then((value) => (typeof value === 'number' ? value : null)),
    exitedWith,
  };
}

/** Kills (-9) every process of `started` still running and waits for each, emptying the list. */
export async function killAll(started: RunningCli[]): Promise<void> {
  for (const cli of started.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await cli.exited;
  }
}

/** Polls `condition` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
