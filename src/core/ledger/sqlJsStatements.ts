/** The SQL of the embedded ledger's hot paths, prepared once per ledger and reused. */
import { OUTCOME_COLUMNS, RUN_COLUMNS } from './rows';

/** An upsert of `rows` outcomes in one statement; later rows replace earlier ones of the same key. */
function insertOutcomes(rows: number): string {
  const row = `(${OUTCOME_COLUMNS.map(() => '?').join(', ')})`;
  return `INSERT OR REPLACE INTO records (${OUTCOME_COLUMNS.join(', ')})
  VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
}

export const INSERT_OUTCOME = insertOutcomes(1);

/**
 * Outcomes per statement in `upsertOutcomes`: each statement costs a round trip into sql.js and a
 * reset, so a million outcomes fold about a sixth faster 256 at a time than one at a time (3,840
 * parameters, far below SQLite's limit of 32,766).
 */
export const OUTCOMES_PER_STATEMENT = 256;
export const INSERT_OUTCOMES = insertOutcomes(OUTCOMES_PER_STATEMENT);

// An upsert rather than INSERT OR REPLACE: replaying a run-start keeps the row (and its rowid, which
// orders runs that started in the same millisecond) instead of deleting and re-inserting it.
export const UPSERT_RUN = `INSERT INTO runs (${RUN_COLUMNS.join(', ')})
  VALUES (${RUN_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (id) DO UPDATE SET ${RUN_COLUMNS.filter((column) => column !== 'id')
    .map((column) => `${column} = excluded.${column}`)
    .join(', ')}`;

export const FINISH_RUN = 'UPDATE runs SET outcome = ?, reason = ?, counts = ?, ended_at = ? WHERE id = ?';

export const SELECT_OUTCOME = 'SELECT * FROM records WHERE key = ?';
