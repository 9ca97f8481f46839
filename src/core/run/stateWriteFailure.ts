/**
 * A state folder that refuses writes (a full disk, a read-only remount, changed permissions) when a run
 * starts — typically the resume after a run halted for that very reason. It is the same fault as in the
 * middle of a run, so it gets the same answer: halted, exit 3, the same words, nothing lost — never an
 * internal error. This file cannot depend on the vscode API.
 */

/** Error codes of a file system that does not take the write, as opposed to a bug. */
const STATE_WRITE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EFBIG']);

/**
 * True when `error` (or the error it wraps) is the file system refusing a write in `stateDir`. A refusal
 * that names another path (a source file that cannot be read) is not this fault.
 */
export function isStateWriteFailure(error: unknown, stateDir: string): boolean {
  for (let e = error; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) {
    const { code, path } = e as NodeJS.ErrnoException;
    if (code === undefined || !STATE_WRITE_CODES.has(code)) continue;
    if (path === undefined || path.startsWith(stateDir)) return true;
  }
  return false;
}

/** The halt reason: the words a run uses when its state folder stops taking writes mid-run. */
export function stateWriteHaltReason(stateDir: string, error: unknown): string {
  const why = (error instanceof Error ? error.message : String(error)).replace(
    /: the run must stop;.*$/s,
    '',
  );
  return (
    `could not write to the state folder ${stateDir}: ${why}; nothing more can be checkpointed: ` +
    'make the folder writable, then run the same command to resume'
  );
}
