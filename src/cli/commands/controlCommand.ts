/**
 * `backfill control FILE pause|resume|stop|rate N|concurrency N`. It is typed while a run is going, often
 * to stop it, so it is also built on its own (dist/control.js) and bin.ts runs it through
 * `tryControlFastPath` without loading the rest of the command line: commander, zod, yaml and the
 * commands' code would cost its Node process about as much again as Node's own start-up.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { describeRange, rangeProblem, typedNumber } from '../../core/model/numericRanges';
import { stateDirFor } from '../../core/ledger/statePaths';
import { sendControl, type ControlCommand } from '../../core/run/control';
import { isLive, readStatus } from '../../core/run/runStatus';
import { UserError } from '../../core/model/types';
import { ExitCode } from '../exitCodes';

/**
 * `backfill control ARGS` for the one form that must be fast and needs no parser: FILE ACTION [VALUE]
 * that sends. Anything else — help, an option, a missing or extra argument, a refusal, a failure — is
 * undefined, with nothing written, and the full command line runs it and reports it in its own words.
 * Running a failed command again is harmless: a command is either sent or not, and sending one twice
 * sets the same state.
 */
export function tryControlFastPath(args: readonly string[]): number | undefined {
  const [file, action, value] = args;
  if (file === undefined || action === undefined || args.length > 3) return undefined;
  if (args.some((arg) => arg.startsWith('-'))) return undefined;
  try {
    // A runbook that may keep its ledger in PostgreSQL may have a fleet on many hosts: the full command
    // line reads its environments and steers them all (fleetControlCommand.ts).
    if (mayShareLedger(file)) return undefined;
    return controlCommand(file, action, value);
  } catch {
    return undefined;
  }
}

/** `backfill control FILE pause|resume|stop|rate N|concurrency N`: steers a running backfill. */
export function controlCommand(file: string, action: string, value: string | undefined): number {
  const command = parseCommand(action, value);
  const stateDir = stateDirFor(file);
  const status = readStatus(stateDir);
  if (!status || !isLive(status, os.hostname()) || status.state === 'finished' || status.state === 'halted') {
    throw new UserError(`no backfill of ${file} is running: nothing to ${action}`);
  }
  sendControl(stateDir, command);
  process.stdout.write(
    `Sent "${action}${value !== undefined ? ` ${value}` : ''}" to run ${status.run} (pid ${status.pid}); it applies within a second.\n`,
  );
  return ExitCode.ok;
}

/**
 * Whether an environment of the runbook may say `ledger:`, without parsing it (no yaml here): a cheap
 * over-approximation, since a wrong "yes" only costs loading the full command line.
 */
export function mayShareLedger(file: string): boolean {
  try {
    return /^\s+ledger:/m.test(fs.readFileSync(file, 'utf8'));
  } catch {
    return false; // no runbook to read: the command says no run of it is going
  }
}

/** Parses an action and its value, or throws a UserError saying what is wrong. */
export function parseCommand(action: string, value: string | undefined): ControlCommand {
  if (action === 'pause' || action === 'resume' || action === 'stop') {
    if (value !== undefined) throw new UserError(`${action} takes no value`);
    return { command: action };
  }
  if (action === 'rate' || action === 'concurrency') {
    if (value === undefined)
      throw new UserError(`${action} needs a value ${describeRange(action)}, e.g. ${action} 20`);
    const number = typedNumber(value);
    const problem = rangeProblem(action, number);
    if (problem) throw new UserError(`${action} ${value}: ${problem}`);
    return { command: action, value: number };
  }
  throw new UserError(`unknown control "${action}": use pause, resume, stop, rate N or concurrency N`);
}
