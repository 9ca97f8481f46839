/**
 * Real runs that did not start: a production run a gate refused, a confirmation answered "no" or
 * dismissed. They write no result block (nothing ran, and the record of the last real run must stay), but
 * a runbook is a record, so each attempt is appended to `attempts.jsonl` in the runbook's state folder
 * (beside the ledger): who, when, which cell and environment, and which gate or question stopped it.
 *
 * An append-only JSON Lines file, apart from the ledger's tables, so that it needs no schema change and
 * no ledger lock: an attempt is recorded even while another process holds the ledger.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ATTEMPTS_FILE = 'attempts.jsonl';

/** One real run that did not start. */
export interface Attempt {
  /** ISO 8601 time of the attempt. */
  at: string;
  operator: string;
  cell: string;
  environment: string;
  production: boolean;
  /** `refused` by a gate, or `cancelled` by the person at a question. */
  outcome: 'refused' | 'cancelled';
  /** What stopped it: `checklist`, `dry-run`, `confirmation`, `typed-name`, … */
  gate: string;
  /** In words, for the report. */
  reason: string;
}

/** Appends an attempt to the state folder's attempts file (the folder is created when missing). */
export function recordAttempt(stateDir: string, attempt: Attempt): void {
  fs.mkdirSync(stateDir, { recursive: true });
  fs.appendFileSync(path.join(stateDir, ATTEMPTS_FILE), `${JSON.stringify(attempt)}\n`);
}

/** Every attempt recorded, oldest first; lines that do not parse (a torn last line) are skipped. */
export function readAttempts(stateDir: string): Attempt[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(stateDir, ATTEMPTS_FILE), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    if (line.trim() === '') return [];
    try {
      const value = JSON.parse(line) as Partial<Attempt>;
      return typeof value.at === 'string' && typeof value.cell === 'string' ? [value as Attempt] : [];
    } catch {
      return [];
    }
  });
}
