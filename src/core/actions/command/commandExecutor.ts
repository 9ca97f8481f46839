/**
 * Runs a rendered command action: one process per record, or one process for a whole batch. This file
 * cannot depend on the vscode API.
 *
 * Exit status convention: 0 means done; 75 (EX_TEMPFAIL in sysexits.h, "temporary failure, try again
 * later") means the attempt failed but a retry may succeed; any other status is a permanent failure of
 * that record. A command signals a transient problem (a lock, a busy database) by exiting with 75.
 */
import { existsSync } from 'node:fs';
import type { CommandPreview } from '../compiledAction';
import type { AttemptResult } from '../../model/attemptResult';
import type { AttemptOptions, Failure } from '../attempt';
import {
  MAX_MESSAGE_LENGTH,
  abortedFailure,
  errorCode,
  errorMessage,
  failed,
  oneLineTail,
  startStopwatch,
  succeeded,
} from '../attempt';
import type { ReportedResult } from './batchResults';
import { LineSplitter, parseResultLine } from './batchResults';
import type { OutputTails, ProcessOutcome } from './processRunner';
import { runProcess } from './processRunner';

/** The exit status by which a command asks for a retry (EX_TEMPFAIL). */
export const RETRYABLE_EXIT_CODE = 75;

/** An attempt's deadline and signal, plus the folder the command runs in (the runbook's folder). */
export interface CommandOptions extends AttemptOptions {
  cwd: string;
}

/** One record of a batch: its key and its line of JSON for stdin (a preview's `stdin`). */
export interface BatchRecord {
  key: string;
  stdin: string;
}

/**
 * Runs the command once for one record: argv without a shell, the record's JSON on stdin, the preview's
 * env (idempotency key included) over the runner's environment. On timeout the process gets SIGTERM,
 * then SIGKILL after 2 s, and the result comes once it has exited. Never throws.
 */
export async function executeCommand(preview: CommandPreview, opts: CommandOptions): Promise<AttemptResult> {
  const elapsed = startStopwatch();
  const outcome = await runProcess({ argv: preview.argv, env: preview.env, stdin: preview.stdin }, opts);
  return failedOrSucceeded(outcome, preview.argv, opts, elapsed());
}

/**
 * Runs the command once for a whole batch: every record's JSON line on stdin, in order. The program may
 * print a result line per record on stdout (`{"key": "A-1", "ok": true}`, `{"key": "A-2", "ok": false,
 * "error": "why", "retryable": false}`); such a line is that record's result even if the process then
 * fails or is stopped. Records with no line get the process's own result (exit 0 succeeds them all).
 * The deadline covers the whole process. Never throws.
 */
export async function executeCommandBatch(
  argv: string[],
  env: Record<string, string>,
  records: BatchRecord[],
  opts: CommandOptions,
): Promise<Map<string, AttemptResult>> {
  const elapsed = startStopwatch();
  const inBatch = new Set(records.map((record) => record.key));
  const reported = new Map<string, ReportedResult>();
  // The last line about a key wins: a program may retry a record itself and report again.
  const lines = new LineSplitter((line) => {
    const result = parseResultLine(line);
    if (result && inBatch.has(result.key)) reported.set(result.key, result);
  });
  const stdin = records.map((record) => withFinalNewline(record.stdin)).join('');
  const outcome = await runProcess(
    { argv, env, stdin },
    { ...opts, onStdout: (chunk) => lines.write(chunk) },
  );
  lines.end();

  const durationMs = elapsed();
  const processResult = failedOrSucceeded(outcome, argv, opts, durationMs);
  const results = new Map<string, AttemptResult>();
  for (const { key } of records) {
    const line = reported.get(key);
    results.set(key, line ? reportedAttempt(line, durationMs) : processResult);
  }
  return results;
}

function withFinalNewline(line: string): string {
  return line.endsWith('\n') ? line : `${line}\n`;
}

function reportedAttempt(line: ReportedResult, durationMs: number): AttemptResult {
  if (line.ok) return succeeded(durationMs);
  // The program's own verdict on the record, like a module handler's thrown error.
  return failed(durationMs, { kind: 'handler-error', retryable: line.retryable, message: line.error });
}

/**
 * The result of an attempt whose process ended so: exit 0 succeeds, 75 asks for a retry, any other exit
 * status fails for good, a timeout is a retryable failure, and a program that could not start is a
 * permanent one. Messages end with what the program printed last.
 */
export function failedOrSucceeded(
  outcome: ProcessOutcome,
  argv: string[],
  opts: CommandOptions,
  durationMs: number,
): AttemptResult {
  switch (outcome.kind) {
    case 'exited':
      return outcome.code === 0 ? succeeded(durationMs) : failed(durationMs, exitFailure(outcome));
    case 'timed-out':
      return failed(durationMs, {
        kind: 'timeout',
        retryable: true,
        message: withOutput(`timed out after ${opts.timeoutMs} ms and was killed`, outcome.output),
      });
    case 'aborted':
      return failed(durationMs, abortedFailure());
    case 'spawn-failed':
      return failed(durationMs, spawnFailure(outcome.error, argv[0] ?? '', opts.cwd));
  }
}

function exitFailure(outcome: Extract<ProcessOutcome, { kind: 'exited' }>): Failure {
  if (outcome.code === null) {
    // Killed from outside (the OOM killer, an operator): not the command's request for a retry.
    const summary = `killed by ${outcome.signal ?? 'a signal'}`;
    return { kind: 'command-exit', retryable: false, message: withOutput(summary, outcome.output) };
  }
  const retryable = outcome.code === RETRYABLE_EXIT_CODE;
  const summary = `exit code ${outcome.code}${retryable ? ' (temporary failure, will retry)' : ''}`;
  return { kind: 'command-exit', retryable, message: withOutput(summary, outcome.output) };
}

/** The summary, then the end of stderr (or of stdout when stderr is empty), all in one line. */
function withOutput(summary: string, output: OutputTails): string {
  const printed = output.stderr.trim() !== '' ? output.stderr : output.stdout;
  if (printed.trim() === '') return summary;
  return `${summary}: ${oneLineTail(printed, MAX_MESSAGE_LENGTH - summary.length - 2)}`;
}

/** The program never ran: a missing program or folder needs a fix in the runbook, not a retry. */
function spawnFailure(error: unknown, program: string, cwd: string): Failure {
  const code = errorCode(error);
  const start = `could not start ${JSON.stringify(program)}`;
  let message: string;
  if (code === 'ENOENT' && !existsSync(cwd)) {
    message = `${start}: the working folder ${cwd} does not exist`;
  } else if (code === 'ENOENT') {
    message = `${start}: no such program (argv[0] must be a path or a name found in PATH)`;
  } else if (code === 'EACCES') {
    message = `${start}: permission denied (is the file executable?)`;
  } else {
    message = `${start}: ${errorMessage(error)}`;
  }
  return { kind: 'other', retryable: false, message };
}
