import * as fs from 'node:fs';
import { checkRunbook } from '../core/checkRunbook';
import { parseRunbook, type Runbook } from '../core/format/runbook';
import { UserError } from '../core/types';

/** Reads and validates a runbook file; every problem becomes a UserError carrying located issues. */
export function loadRunbook(file: string): Runbook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : String(code);
    throw new UserError(`cannot read runbook ${file}: ${why}`);
  }
  const parsed = parseRunbook(text, file);
  const issues = parsed.runbook ? checkRunbook(parsed.runbook) : parsed.issues;
  const runbook = issues.length === 0 ? parsed.runbook : undefined;
  if (!runbook) {
    throw new UserError(
      `${file} is not a valid runbook (${issues.length} problem${issues.length === 1 ? '' : 's'})`,
      issues,
    );
  }
  return runbook;
}
