/**
 * Runs one program to completion with a deadline and a stop signal, and says how it ended. This file
 * cannot depend on the vscode API.
 *
 * There is no shell: the program and each argument are passed to the operating system as they are, so a
 * record value in an argument is never interpreted.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { AttemptOptions } from '../attempt';
import { TailBuffer } from '../attempt';

/** A program stopped by the deadline or the signal gets this long to exit after SIGTERM before SIGKILL. */
export const KILL_GRACE_MS = 2000;

/**
 * How long to wait for the output pipes to close once the program has exited. A background process it
 * started may hold them open forever; the program's own exit is what counts.
 */
const PIPE_CLOSE_GRACE_MS = 1000;

/** How much of the end of stderr (and stdout) is kept to explain a failure. */
const KEPT_OUTPUT_BYTES = 500;

/** What to run. */
export interface ProcessSpec {
  argv: string[];
  /** Added to (and overriding) the runner's own environment. */
  env: Record<string, string>;
  /** Written to the program's stdin, which is then closed. */
  stdin: string;
}

/** The last bytes the program printed, for messages. */
export interface OutputTails {
  stderr: string;
  stdout: string;
}

/** How a run ended. Only `spawn-failed` means the program never ran. */
export type ProcessOutcome =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; output: OutputTails }
  | { kind: 'timed-out'; output: OutputTails }
  | { kind: 'aborted' }
  | { kind: 'spawn-failed'; error: unknown };

/** Options of a run: the attempt's deadline and signal, and the folder the program runs in. */
export interface ProcessOptions extends AttemptOptions {
  cwd: string;
  /** Receives stdout as it arrives (batch mode reads per-record results from it). */
  onStdout?: (chunk: Buffer) => void;
}

/**
 * Runs the program and resolves once it has exited, never earlier: on timeout or abort it is sent
 * SIGTERM, then SIGKILL after {@link KILL_GRACE_MS}, and the outcome comes when it is gone. Never rejects.
 */
export function runProcess(spec: ProcessSpec, opts: ProcessOptions): Promise<ProcessOutcome> {
  if (opts.signal?.aborted) return Promise.resolve({ kind: 'aborted' });
  const [program, ...args] = spec.argv;
  if (program === undefined) {
    return Promise.resolve({
      kind: 'spawn-failed',
      error: new Error('the command has no program (argv is empty)'),
    });
  }
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(program, args, {
      shell: false,
      cwd: opts.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (error) {
    // Node refuses some arguments synchronously (a NUL byte, for instance).
    return Promise.resolve({ kind: 'spawn-failed', error });
  }
  return superviseChild(child, spec.stdin, opts);
}

function superviseChild(
  child: ChildProcessWithoutNullStreams,
  stdin: string,
  opts: ProcessOptions,
): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const stderr = new TailBuffer(KEPT_OUTPUT_BYTES);
    const stdout = new TailBuffer(KEPT_OUTPUT_BYTES);
    let stoppedBecause: 'timeout' | 'abort' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let pipeTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const settle = (outcome: ProcessOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(killTimer);
      clearTimeout(pipeTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const terminate = (reason: 'timeout' | 'abort'): void => {
      // A program that already exited on its own finished in time, even if its pipes are still closing.
      const exited = child.exitCode !== null || child.signalCode !== null;
      if (stoppedBecause !== undefined || exited) return;
      stoppedBecause = reason;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = (): void => terminate('abort');
    const deadline = setTimeout(() => terminate('timeout'), opts.timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      stdout.write(chunk);
      opts.onStdout?.(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.write(chunk));
    // EPIPE when the program exits without reading all its input: its exit status says what happened.
    child.stdin.on('error', () => undefined);
    child.on('error', (error) => {
      // Without a pid the program never started (ENOENT, EACCES); later errors (a failed kill) change nothing.
      if (child.pid === undefined) settle({ kind: 'spawn-failed', error });
    });
    child.on('exit', () => {
      pipeTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_CLOSE_GRACE_MS);
    });
    child.on('close', (code, signal) => {
      const output = { stderr: stderr.text(), stdout: stdout.text() };
      if (stoppedBecause === 'abort') settle({ kind: 'aborted' });
      else if (stoppedBecause === 'timeout') settle({ kind: 'timed-out', output });
      else settle({ kind: 'exited', code, signal, output });
    });
    child.stdin.end(stdin);
  });
}
