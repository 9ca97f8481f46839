/**
 * Exactly once by key for a SQL action: each batch's transaction also inserts one row per record into a
 * small table of the target database (`backfill_applied` unless `appliedTable` names another), keyed
 * by the record's idempotency key, so the marker commits if and only if the record's statement did. A
 * batch first looks its keys up there: a record whose marker exists was applied before (by a run killed
 * before its ledger learnt it, or by another worker) and is recorded as succeeded without running again.
 * This folder cannot depend on the vscode API.
 *
 * The table needs CREATE on its schema once (it is created when missing), then SELECT and INSERT;
 * `appliedTable: false` turns markers off (a record in flight at a kill may then run twice).
 */
import type { ClientBase } from 'pg';
import { extendedQuery } from '../../support/postgres/sqlText';

/** The default table: in the first schema of the connection's search_path (usually `public`). */
export const DEFAULT_APPLIED_TABLE = 'backfill_applied';

/** `name` or `schema.name`, plain identifiers only: the name is written into SQL, never a value. */
export const APPLIED_TABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** The markers of one SQL action's target. */
export interface AppliedMarkers {
  /** The table as written, for messages. */
  readonly table: string;
  /** Creates the table when it does not exist (the only statement that needs CREATE). */
  ensure(client: ClientBase): Promise<void>;
  /**
   * Why the run could not keep markers here (no table and no CREATE on its schema, or no SELECT and
   * INSERT on it), or undefined: the dry run asks, so the run does not stop at its start.
   */
  problem(client: ClientBase): Promise<string | undefined>;
  /** Of `keys`, those already applied, with the rows their statement changed then. */
  applied(client: ClientBase, keys: string[]): Promise<Map<string, number>>;
  /**
   * Marks `keys` applied inside the caller's transaction. Returns false when one was marked meanwhile
   * by another transaction (which has committed since): the caller rolls back and looks again.
   */
  mark(client: ClientBase, keys: string[], rows: number[]): Promise<boolean>;
}

export function appliedMarkers(table: string = DEFAULT_APPLIED_TABLE): AppliedMarkers {
  const quoted = table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
  return {
    table,
    async ensure(client) {
      // Looked up first: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the table exists.
      const found = await client.query<{ t: string | null }>({
        text: 'SELECT to_regclass($1)::text AS t',
        values: [quoted],
      });
      if (found.rows[0]?.t) return;
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${quoted} (idempotency_key text PRIMARY KEY, rows_affected integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
      } catch (error) {
        // Two workers creating it at once: the loser's unique violation means the table is there.
        if ((error as { code?: string }).code !== '23505') throw error;
      }
    },
    async problem(client) {
      const schema = table.includes('.') ? table.split('.')[0]! : undefined;
      const found = await client.query<{ t: string | null; schema: string | null; create: boolean | null }>(
        extendedQuery(
          'SELECT to_regclass($1)::text AS t, coalesce($2, current_schema()) AS schema, has_schema_privilege(coalesce($2, current_schema()), $3) AS create',
          [quoted, schema ?? null, 'CREATE'],
        ),
      );
      const row = found.rows[0]!;
      if (row.t) {
        const rights = await client.query<{ ok: boolean }>(
          extendedQuery('SELECT has_table_privilege($1, $2) AND has_table_privilege($1, $3) AS ok', [
            quoted,
            'SELECT',
            'INSERT',
          ]),
        );
        return rights.rows[0]?.ok
          ? undefined
          : `the table "${table}" exists, but this user may not SELECT and INSERT on it`;
      }
      if (!row.create) {
        return `the table "${table}" does not exist, and this user may not create it in schema ${row.schema ?? '(none: the search_path is empty)'}`;
      }
      return undefined;
    },
    async applied(client, keys) {
      const found = await client.query<{ idempotency_key: string; rows_affected: number }>({
        name: 'backfill_applied_lookup',
        text: `SELECT idempotency_key, rows_affected FROM ${quoted} WHERE idempotency_key = ANY($1::text[])`,
        values: [keys],
      });
      return new Map(found.rows.map((row) => [row.idempotency_key, row.rows_affected]));
    },
    async mark(client, keys, rows) {
      const inserted = await client.query({
        name: 'backfill_applied_mark',
        text: `INSERT INTO ${quoted} (idempotency_key, rows_affected) SELECT * FROM unnest($1::text[], $2::int[]) ON CONFLICT DO NOTHING`,
        values: [keys, rows],
      });
      return inserted.rowCount === keys.length;
    },
  };
}
