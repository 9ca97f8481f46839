/** The SQL of the embedded ledger's hot paths, prepared once per ledger and reused. */
import { OUTCOME_COLUMNS, PLAIN_OUTCOME_COLUMNS, RUN_COLUMNS } from './rows';

/**
 * An upsert of `rows` outcomes in one statement; later rows replace earlier ones of the same key. The
 * columns left out are NULL in the rows it writes.
 */
function insertOutcomes(rows: number, columns: readonly string[] = OUTCOME_COLUMNS): string {
  const row = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT OR REPLACE INTO records (${columns.join(', ')})
  VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
}

/**
 * Outcomes per statement in `upsertOutcomes`: each statement costs a round trip into sql.js and a
 * reset, so a million outcomes fold about a sixth faster 256 at a time than one at a time (3,840
 * parameters, far below SQLite's limit of 32,766).
 */
export const OUTCOMES_PER_STATEMENT = 256;

const insertSql = new Map<string, string>();

/** The upsert of `rows` plain outcomes (rows.ts PLAIN_OUTCOME_COLUMNS) or of any outcomes, made once. */
export function insertOutcomesSql(rows: number, plain: boolean): string {
  const id = `${plain ? 'plain' : 'full'} ${rows}`;
  let sql = insertSql.get(id);
  if (sql === undefined) {
    sql = insertOutcomes(rows, plain ? PLAIN_OUTCOME_COLUMNS : OUTCOME_COLUMNS);
    insertSql.set(id, sql);
  }
  return sql;
}

// An upsert rather than INSERT OR REPLACE: replaying a run-start keeps the row (and its rowid, which
// orders runs that started in the same millisecond) instead of deleting and re-inserting it.
export const UPSERT_RUN = `INSERT INTO runs (${RUN_COLUMNS.join(', ')})
  VALUES (${RUN_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (id) DO UPDATE SET ${RUN_COLUMNS.filter((column) => column !== 'id')
    .map((column) => `${column} = excluded.${column}`)
    .join(', ')}`;

export const FINISH_RUN = 'UPDATE runs SET outcome = ?, reason = ?, counts = ?, ended_at = ? WHERE id = ?';

export const SELECT_OUTCOME = 'SELECT * FROM records WHERE key = ?';
