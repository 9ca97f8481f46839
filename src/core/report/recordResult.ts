/**
 * Writes a cell's result block into the runbook file after a run: the runbook is the record. The file is
 * re-read just before writing and replaced atomically (temporary file, fsync, rename), and the write is
 * retried when someone saved the file in between, so a concurrent edit elsewhere in the runbook is never
 * lost. A result is redacted before it is written: secrets never touch disk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DryRunReport } from '../dryrun/dryRun';
import { setRunResult } from '../format/resultSlots';
import type { Result } from '../format/schemas';
import { fsyncDirectory, writeAllSync } from '../ledger/durableFs';
import type { Redactor } from '../secrets/secrets';
import { UserError } from '../model/types';
import { resultOfDryRun } from '../run/cellResult';
import { redactorFor } from './knownSecrets';

/** Whether the result landed in the runbook; when not, why (for a warning: the run itself stands). */
export type ResultWrite = { written: true; file: string } | { written: false; reason: string };

const ATTEMPTS = 5;

/**
 * Sets the result block of `cellId` in `file`. Never throws for an expected problem (the cell was
 * deleted, the file is unreadable or keeps changing): it returns the reason instead.
 */
export function writeCellResult(
  file: string,
  cellId: string,
  result: Result,
  redactor: Redactor,
): ResultWrite {
  const safe = redactor.redactValue(result);
  try {
    const target = fs.realpathSync(file);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      const before = fs.readFileSync(target, 'utf8');
      const after = setRunResult(before, cellId, safe);
      if (replaceIfUnchanged(target, before, after)) return { written: true, file };
    }
    return { written: false, reason: `${file} kept changing while the result was written; try again` };
  } catch (error) {
    if (error instanceof UserError) return { written: false, reason: error.message };
    const code = (error as NodeJS.ErrnoException).code;
    if (code) return { written: false, reason: `cannot write ${file} (${code})` };
    throw error;
  }
}

/**
 * Writes `after` to a temporary file beside `file`, then renames it over `file` only if `file` still
 * holds `before`. Returns false (nothing changed) when it does not: the caller starts over.
 */
function replaceIfUnchanged(file: string, before: string, after: string): boolean {
  if (after === before) return true;
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.result.tmp`);
  const fd = fs.openSync(temporary, 'w');
  try {
    fs.fchmodSync(fd, fs.statSync(file).mode & 0o7777); // exactly the runbook's mode, whatever the umask
    writeAllSync(fd, Buffer.from(after, 'utf8'));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (fs.readFileSync(file, 'utf8') !== before) {
    fs.rmSync(temporary, { force: true });
    return false;
  }
  fs.renameSync(temporary, file);
  fsyncDirectory(path.dirname(file));
  return true;
}

/** Records a dry run's result in its cell; secrets are those of the runbook, resolved from `environment`. */
export function recordDryRunResult(
  file: string,
  report: DryRunReport,
  environment: Readonly<Record<string, string | undefined>>,
): ResultWrite {
  return writeCellResult(file, report.cell, resultOfDryRun(report), redactorForFile(file, environment));
}

/**
 * Records a run's result block (`RunOptions.onResult` hands it over once the run ended: halted and
 * below-threshold runs included); undefined when the run left no ended run in the ledger.
 */
export function recordRunResult(
  file: string,
  cellId: string,
  result: Result | undefined,
  environment: Readonly<Record<string, string | undefined>>,
): ResultWrite {
  if (!result) return { written: false, reason: `the ledger has no run of cell ${cellId}` };
  return writeCellResult(file, cellId, result, redactorForFile(file, environment));
}

function redactorForFile(file: string, environment: Readonly<Record<string, string | undefined>>): Redactor {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // Unreadable now: the write reports why; the credential-name net still applies meanwhile.
  }
  return redactorFor(text, environment);
}
