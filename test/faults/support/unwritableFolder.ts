/**
 * Makes a folder really unwritable mid-run, as a read-only remount or a full disk does: no new file,
 * no rename, and no write even through a file descriptor the process already holds open.
 *
 * Root ignores permission bits, so as root the folder and its files get the immutable attribute
 * (`chattr +i`), which the kernel enforces for everyone, open descriptors included. As another user,
 * permission bits are a real fault too, though weaker: descriptors already open stay writable, so the
 * fault shows at the next new file (status, ledger save). Where neither works (no chattr, a file system
 * without attributes), there is no real way to inject the fault and `unwritableFolders()` says why.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface UnwritableFolders {
  how: 'chattr +i' | 'chmod a-w';
  /** Makes `dir` and every file directly in it unwritable. */
  freeze(dir: string): void;
  /** Undoes `freeze` (also safe on a folder that was never frozen, or no longer exists). */
  thaw(dir: string): void;
}

export function unwritableFolders(): UnwritableFolders | { unavailable: string } {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) return byPermissions;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-chattr-'));
  try {
    fs.writeFileSync(path.join(probe, 'file'), 'x');
    byAttribute.freeze(probe);
    try {
      fs.appendFileSync(path.join(probe, 'file'), 'y');
      return { unavailable: 'chattr +i did not stop root from writing on this file system' };
    } catch {
      return byAttribute;
    } finally {
      byAttribute.thaw(probe);
    }
  } catch (error) {
    return { unavailable: `chattr +i is not available here: ${(error as Error).message.split('\n')[0]}` };
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

const byAttribute: UnwritableFolders = {
  how: 'chattr +i',
  freeze(dir) {
    // The folder first: from then on no file is created, renamed or removed in it.
    execFileSync('chattr', ['+i', dir]);
    for (const file of filesIn(dir)) execFileSync('chattr', ['+i', file]);
  },
  thaw(dir) {
    if (fs.existsSync(dir)) execFileSync('chattr', ['-R', '-i', dir]);
  },
};

const byPermissions: UnwritableFolders = {
  how: 'chmod a-w',
  freeze(dir) {
    fs.chmodSync(dir, 0o555);
    for (const file of filesIn(dir)) fs.chmodSync(file, 0o444);
  },
  thaw(dir) {
    if (!fs.existsSync(dir)) return;
    fs.chmodSync(dir, 0o755);
    for (const file of filesIn(dir)) fs.chmodSync(file, 0o644);
  },
};

function filesIn(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(dir, entry.name));
}
