/**
 * The run lock: one writer of a runbook's state at a time, `<runbook>.d/lock`, holding who runs what.
 * A lock whose process is gone (crash, kill -9, reboot) is stale and taken over, and the runs it left
 * `running` in the ledger are marked `crashed`. A lock held by another host is never taken over
 * automatically: from here, nobody can tell whether that process still runs.
 *
 * This folder cannot depend on the vscode API.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunRecord } from '../model/runs';
import { UserError } from '../model/types';
import { isOneOf, readFileIfExists } from './durableFs';
import type { Ledger, LockInfo, RunLock, StaleLock } from './ledger';

export type { LockInfo, RunLock, StaleLock } from './ledger';

/**
 * Linux identifies a process exactly by boot and start time; with them a pid reused after a reboot or
 * after the holder died is not mistaken for the holder. Elsewhere only `pid` is checked.
 */
interface LockFile extends LockInfo {
  bootId?: string;
  processStart?: string;
}

/** The lock file inside a state folder. */
export function lockFileIn(stateDir: string): string {
  return path.join(stateDir, 'lock');
}

const MAX_ATTEMPTS = 5;

/**
 * Takes the run lock of a state folder, or throws a UserError saying who holds it and what to do.
 * A stale lock (its process is gone from this host, or the file is unreadable) is replaced, and
 * `takenOver` says so.
 */
export function acquireRunLock(stateDir: string, info: LockInfo): RunLock {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = lockFileIn(stateDir);
  const content = Buffer.from(`${JSON.stringify(describeHolder(info))}\n`);
  let takenOver: StaleLock | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    if (createExclusively(file, content)) return heldLock(file, info, content, takenOver);
    const existing = readFileIfExists(file);
    if (!existing) continue;
    const stale = staleReason(existing, stateDir);
    if (moveAsideIfUnchanged(file, existing)) takenOver = stale;
  }
  throw new UserError(`could not take the run lock ${file}: other processes keep changing it; try again`);
}

/**
 * Marks the runs the ledger still has as `running` (except `liveRunId`) as `crashed`, and saves the
 * ledger if it marked any. Call it while holding the run lock: then no other process runs them.
 * Returns the runs it marked.
 */
export async function markCrashedRuns(ledger: Ledger, liveRunId?: string): Promise<RunRecord[]> {
  const crashed = (await ledger.runningRuns()).filter((run) => run.id !== liveRunId);
  if (crashed.length === 0) return [];
  // All of them or none reach the disk: nothing is durable before the save.
  for (const run of crashed) {
    // When it died is unknown; its last recorded outcome is the best estimate there is.
    const endedAt = (await ledger.lastOutcomeAt(run.id)) ?? run.startedAt;
    await ledger.finishRun(run.id, 'crashed', CRASHED_REASON, run.counts, endedAt);
  }
  await ledger.save();
  return crashed;
}

const CRASHED_REASON =
  'the process running it stopped without finishing it (crash, kill -9, reboot); resume it to continue';

function describeHolder(info: LockInfo): LockFile {
  const identity = linuxProcessIdentity(info.pid);
  return { ...info, ...identity };
}

/**
 * Creates the lock with its whole content or not at all. Written to a private file first and hard-linked
 * into place, because a lock created empty with O_EXCL and filled afterwards could be read half-written
 * by a second process and taken over as garbage. Where hard links are not supported, falls back to `wx`.
 */
function createExclusively(file: string, content: Buffer): boolean {
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  fs.writeFileSync(temporary, content, { flag: 'wx' });
  try {
    fs.linkSync(temporary, file);
    return true;
  } catch (error) {
    if (isOneOf(error, ['EEXIST'])) return false;
    if (!isOneOf(error, ['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'])) throw error;
    return createWithExclusiveFlag(file, content);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

function createWithExclusiveFlag(file: string, content: Buffer): boolean {
  try {
    fs.writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if (isOneOf(error, ['EEXIST'])) return false;
    throw error;
  }
}

/** Why the lock in `bytes` is stale; throws the UserError to show when it is not. */
function staleReason(bytes: Buffer, stateDir: string): StaleLock {
  const holder = parseLock(bytes);
  if (typeof holder === 'string') return { reason: `the lock file is unreadable (${holder})` };
  const info = lockInfoOf(holder);
  if (holder.host !== os.hostname()) throw heldElsewhere(holder, stateDir);
  const ours = linuxProcessIdentity(holder.pid);
  if (holder.bootId && ours.bootId && holder.bootId !== ours.bootId) {
    return { info, reason: `${holder.host} restarted since pid ${holder.pid} took the lock` };
  }
  if (!isAlive(holder.pid)) return { info, reason: `pid ${holder.pid} is no longer running` };
  if (holder.processStart && ours.processStart && holder.processStart !== ours.processStart) {
    return { info, reason: `pid ${holder.pid} now belongs to another process` };
  }
  throw heldHere(holder, stateDir);
}

function heldHere(holder: LockInfo, stateDir: string): UserError {
  return new UserError(
    `runbook is already being run by pid ${holder.pid} on ${holder.host} since ${holder.startedAt} ` +
      `(run ${holder.runId}, cell ${holder.cell}): wait for it, or stop it with ` +
      `backfill control ${runbookFileOf(stateDir)} stop`,
  );
}

function heldElsewhere(holder: LockInfo, stateDir: string): UserError {
  return new UserError(
    `runbook is already being run by pid ${holder.pid} on ${holder.host} since ${holder.startedAt} ` +
      `(run ${holder.runId}, cell ${holder.cell}), another host: wait for it, or stop it there with ` +
      `backfill control ${runbookFileOf(stateDir)} stop. If ${holder.host} is gone and that run with it, ` +
      `remove ${lockFileIn(stateDir)} by hand`,
  );
}

/** The lock's content, or why it is not a lock. */
function parseLock(bytes: Buffer): LockFile | string {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const lock = value as Partial<LockFile> | null;
  if (typeof lock !== 'object' || lock === null) return 'not a JSON object';
  // A pid of 0 or below would make process.kill probe a whole process group.
  if (!Number.isInteger(lock.pid) || (lock.pid as number) <= 0) return 'no valid pid';
  for (const field of ['host', 'runId', 'cell', 'startedAt'] as const) {
    if (typeof lock[field] !== 'string') return `no ${field}`;
  }
  return lock as LockFile;
}

function lockInfoOf(lock: LockFile): LockInfo {
  return { pid: lock.pid, host: lock.host, runId: lock.runId, cell: lock.cell, startedAt: lock.startedAt };
}

/** `process.kill(pid, 0)` probes without signalling; EPERM means it exists but belongs to someone else. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isOneOf(error, ['EPERM']);
  }
}

/**
 * Removes the stale lock, but only if it is still the very lock that was judged stale: renaming is
 * atomic, so of several processes taking it over at once exactly one moves it. A process that moved a
 * lock someone else had just taken puts it back.
 */
function moveAsideIfUnchanged(file: string, judged: Buffer): boolean {
  const aside = `${file}.${process.pid}.${randomUUID()}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if (isOneOf(error, ['ENOENT'])) return false;
    throw error;
  }
  try {
    if (fs.readFileSync(aside).equals(judged)) return true;
    putBack(aside, file);
    return false;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function putBack(aside: string, file: string): void {
  try {
    fs.linkSync(aside, file);
  } catch (error) {
    // EEXIST: a third process took the lock in the instant it was away; it holds the lock now.
    if (!isOneOf(error, ['EEXIST'])) throw error;
  }
}

function heldLock(file: string, info: LockInfo, content: Buffer, takenOver: StaleLock | undefined): RunLock {
  return {
    file,
    info,
    ...(takenOver ? { takenOver } : {}),
    release() {
      if (readFileIfExists(file)?.equals(content)) fs.rmSync(file, { force: true });
    },
  };
}

/** `orders.backfill.d` → `orders.backfill`, for messages that tell which command to type. */
function runbookFileOf(stateDir: string): string {
  return stateDir.replace(/\.d[\\/]?$/, '');
}

/** Boot id and start time of a process, on Linux (each absent where unknown); empty elsewhere. */
function linuxProcessIdentity(pid: number): { bootId?: string; processStart?: string } {
  if (process.platform !== 'linux') return {};
  const bootId = readProc('/proc/sys/kernel/random/boot_id')?.trim();
  const processStart = processStartOf(pid);
  return { ...(bootId ? { bootId } : {}), ...(processStart ? { processStart } : {}) };
}

/** Start time of a process in clock ticks since boot: with the boot id, unique for the machine's life. */
function processStartOf(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields follow the command name, which is in parentheses and may itself hold spaces or parentheses;
  // the start time is field 22 of the line, the 20th after the name.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function readProc(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
