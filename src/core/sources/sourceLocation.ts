/**
 * Where a source file really is, relative to its runbook. Reading an export from elsewhere is legitimate,
 * but `../../../../etc/hostname` or an absolute path read without a word is how a shared runbook reads a
 * file its reader did not expect: the dry run's plan and the report name such a file by its resolved
 * absolute path. This file cannot depend on the vscode API.
 */
import * as path from 'node:path';

/** The absolute path of a source file outside the runbook's folder (and its subfolders); else undefined. */
export function outsideRunbookFolder(sourcePath: string, baseDir: string): string | undefined {
  const resolved = path.resolve(baseDir, sourcePath);
  const relative = path.relative(path.resolve(baseDir), resolved);
  const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return inside ? undefined : resolved;
}
