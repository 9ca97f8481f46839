/**
 * Live control of a running backfill from another process: `backfill control FILE pause|resume|stop|
 * rate N|concurrency N` writes `<runbook>.d/control.json`; the runner polls it (and the halt file
 * `<runbook>.halt`, for operators without the command line) several times a second.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ControlState {
  /** Increases with every command, so the runner can tell a new command from an old one. */
  seq: number;
  paused: boolean;
  stop: boolean;
  rate?: number;
  concurrency?: number;
}

export type ControlCommand =
  | { command: 'pause' }
  | { command: 'resume' }
  | { command: 'stop' }
  | { command: 'rate'; value: number }
  | { command: 'concurrency'; value: number };

const INITIAL: ControlState = { seq: 0, paused: false, stop: false };

export function controlFile(stateDir: string): string {
  return path.join(stateDir, 'control.json');
}

/** `orders.backfill` → `orders.backfill.halt`: its presence stops a run. */
export function haltFileFor(runbookFile: string): string {
  return `${path.resolve(runbookFile)}.halt`;
}

export function readControl(stateDir: string): ControlState {
  try {
    return {
      ...INITIAL,
      ...(JSON.parse(fs.readFileSync(controlFile(stateDir), 'utf8')) as Partial<ControlState>),
    };
  } catch {
    return INITIAL;
  }
}

/** Applies a command to the control file atomically (write a temp file, rename it over). */
export function sendControl(stateDir: string, command: ControlCommand): ControlState {
  const state = readControl(stateDir);
  const next: ControlState = { ...state, seq: state.seq + 1 };
  switch (command.command) {
    case 'pause':
      next.paused = true;
      break;
    case 'resume':
      next.paused = false;
      break;
    case 'stop':
      next.stop = true;
      break;
    case 'rate':
      next.rate = command.value;
      break;
    case 'concurrency':
      next.concurrency = command.value;
      break;
  }
  writeControl(stateDir, next);
  return next;
}

/** A fresh run starts from a clean control file, so an old `stop` does not halt it. */
export function resetControl(stateDir: string): void {
  writeControl(stateDir, INITIAL);
}

function writeControl(stateDir: string, state: ControlState): void {
  fs.mkdirSync(stateDir, { recursive: true });
  const temporary = `${controlFile(stateDir)}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(state));
  fs.renameSync(temporary, controlFile(stateDir));
}
