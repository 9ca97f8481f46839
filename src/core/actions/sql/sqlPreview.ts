/** What a SQL action would run for one record. This folder cannot depend on the vscode API. */

/** Exactly what a SQL action would run for one record: the statement as written and the bound values. */
export interface SqlPreview {
  type: 'sql';
  statement: string;
  params: Record<string, unknown>;
  /** EXPLAIN's plan (dry run, `explain`), or why the database refuses this record's values. */
  plan?: string[];
  /** Rows the statement changed in a rolled-back transaction (dry run, `rollback`). */
  rowsAffected?: number;
}
