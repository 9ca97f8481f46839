/**
 * The few file operations whose ordering the ledger's promise ("nothing is lost") rests on. A write is
 * only durable once its file is fsync'd, and a rename or a new file only once its directory is too:
 * without that, a power loss can bring back the old ledger while the journal that fed the new one is
 * already truncated.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Replaces `file` atomically with `bytes`: temporary file, fsync, rename, fsync of the directory.
 * Returns the stats of the written file, taken before the rename so they are ours even if another
 * process renames its own version in right after.
 */
export function replaceFileDurably(link: string, bytes: Uint8Array): fs.BigIntStats {
  // A symbolic link is followed: renaming over the link itself would turn it into a regular file and
  // leave the file it points to silently behind.
  const file = followLinks(link);
  const directory = path.dirname(file);
  fs.mkdirSync(directory, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, 'w');
  let stats: fs.BigIntStats;
  try {
    writeAllSync(fd, bytes);
    fs.fsyncSync(fd);
    stats = fs.fstatSync(fd, { bigint: true });
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  fsyncDirectory(directory);
  return stats;
}

/**
 * Removes the temporary files of `replaceFileDurably` that a process killed in the middle of a save left
 * beside `link` (`FILE.PID.tmp`, as big as the ledger). Only those of processes that no longer exist:
 * another live process may be writing its own right now.
 */
export function removeDeadTemporaries(link: string): void {
  const file = followLinks(link);
  const prefix = `${path.basename(file)}.`;
  removeDeadTemporariesWhere(path.dirname(file), (name) => name.startsWith(prefix));
}

/**
 * Removes the temporary files (`NAME.PID.tmp`) of every file of `directory` that dead processes left, in
 * one scan: a folder of 1,500 segments scanned once per segment read 2.3 million names at every start.
 */
export function removeDeadTemporariesIn(directory: string): void {
  removeDeadTemporariesWhere(directory, () => true);
}

function removeDeadTemporariesWhere(directory: string, belongs: (name: string) => boolean): void {
  let names: string[];
  try {
    names = fs.readdirSync(directory);
  } catch {
    return; // no folder yet: nothing left behind
  }
  for (const name of names) {
    const pid = TEMPORARY.exec(name)?.[1];
    if (pid === undefined || !belongs(name) || processExists(Number(pid))) continue;
    fs.rmSync(path.join(directory, name), { force: true });
  }
}

/** `replaceFileDurably`'s temporary file: the file's name, the writer's pid, `.tmp`. */
const TEMPORARY = /^.+\.(\d+)\.tmp$/;

/** Whether process `pid` of this host still runs (one of another user counts as running). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The file a path names once symbolic links are followed (the path itself when it is not one). */
function followLinks(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file; // not there yet: written as a new file
  }
}

/** The bytes of `file`, or undefined when there is no such file (any other error is thrown). */
export function readFileIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if (isOneOf(error, ['ENOENT'])) return undefined;
    throw error;
  }
}

/** Truncates `file` to `length` bytes and fsyncs it, so the cut survives a crash. */
export function truncateDurably(file: string, length: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.ftruncateSync(fd, length);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Makes the entries of a directory (new, renamed or removed files) durable. Some platforms (Windows)
 * cannot open a directory; there the rename is as durable as the platform makes it.
 */
export function fsyncDirectory(directory: string): void {
  let fd: number;
  try {
    fd = fs.openSync(directory, 'r');
  } catch {
    return;
  }
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    if (!isOneOf(error, ['EINVAL', 'EPERM', 'EISDIR', 'EBADF'])) throw error;
  } finally {
    fs.closeSync(fd);
  }
}

/** `fs.writeSync` may write less than asked; loop until every byte is out. */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
}

/** True when `error` is a Node system error with one of these codes. */
export function isOneOf(error: unknown, codes: readonly string[]): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && codes.includes(code);
}
