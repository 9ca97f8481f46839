import * as fs from 'node:fs';
import { checkRunbook } from '../core/job/checkRunbook';
import { parseRunbook, type Runbook } from '../core/format/runbook';
import { UserError } from '../core/model/types';

/** Reads and validates a runbook file; every problem becomes a UserError carrying located issues. */
export function loadRunbook(file: string): Runbook {
  let text: string;
  try {
    text = decodeUtf8(fs.readFileSync(file), file);
  } catch (error) {
    if (error instanceof UserError) throw error;
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

/**
 * Decodes the runbook strictly. A lenient decode would turn a stray byte into U+FFFD, and the result
 * block written after a dry run or a run would then save that change into the user's file.
 */
function decodeUtf8(bytes: Buffer, file: string): string {
  const strict = new TextDecoder('utf-8', { fatal: true });
  try {
    return strict.decode(bytes);
  } catch {
    let line = 1;
    for (let start = 0; start < bytes.length; line += 1) {
      const newline = bytes.indexOf(10, start);
      const end = newline < 0 ? bytes.length : newline + 1;
      try {
        strict.decode(bytes.subarray(start, end));
      } catch {
        break;
      }
      start = end;
    }
    throw new UserError(`${file} is not valid UTF-8`, [
      { file, line, message: 'not valid UTF-8: save the runbook as UTF-8 (it was left untouched)' },
    ]);
  }
}
