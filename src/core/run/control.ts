/**
 * Live control of a running backfill from another process: `backfill control FILE pause|resume|stop|
 * rate N|concurrency N` writes `<runbook>.d/control.json`; the runner watches it (and the halt file
 * `<runbook>.halt`, for operators without the command line) and polls both several times a second.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FleetCommand } from '../fleet/fleetControls';

export interface ControlState {
  /** Increases with every command, so the runner can tell a new command from an old one. */
  seq: number;
  paused: boolean;
  stop: boolean;
  rate?: number;
  concurrency?: number;
}

/** The commands of `backfill control`, the same for one run's control.json as for a fleet's row. */
export type ControlCommand = FleetCommand;

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

/** An open watch; `close` ends it, and no call to `onChange` follows. */
export interface ControlWatch {
  close(): void;
}

/**
 * Calls `onChange` as soon as a command may have arrived — `control.json` renamed into the state folder,
 * the halt file created or removed — so the runner need not wait for its next poll. `fs.watch` is not
 * reliable everywhere (network and some container file systems drop events, a folder may be unwatchable),
 * so it is only a shortcut: the runner keeps polling, and a watch that cannot start or fails later ends
 * quietly. Other files of the folders (the journal, status.json, the runbook) are ignored.
 */
export function watchControl(stateDir: string, haltFile: string, onChange: () => void): ControlWatch {
  let open = true;
  const watchers: fs.FSWatcher[] = [];
  const close = () => {
    open = false;
    for (const watcher of watchers.splice(0)) watcher.close();
  };
  const watch = (folder: string, name: string) => {
    let watcher: fs.FSWatcher;
    try {
      // Without a file name (some platforms) any change of the folder may be the one.
      watcher = fs.watch(folder, (_event, changed) => {
        if (open && (!changed || changed === name)) onChange();
      });
    } catch {
      return;
    }
    watcher.on('error', () => {
      watcher.close();
      const index = watchers.indexOf(watcher);
      if (index >= 0) watchers.splice(index, 1);
    });
    watchers.push(watcher);
  };
  watch(stateDir, path.basename(controlFile(stateDir)));
  watch(path.dirname(haltFile), path.basename(haltFile));
  return { close };
}
