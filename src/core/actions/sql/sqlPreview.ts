/**
 * What a SQL action would run for one record, and that as lines of text. Imports nothing, so the
 * notebook renderer shows the same lines as the CLI. This folder cannot depend on the vscode API.
 */

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

/** The statement as written, its bound values, and what the dry run learnt (plan, rows affected). */
export function sqlPreviewLines(send: SqlPreview): string[] {
  return [
    send.statement.trim(),
    `params: ${JSON.stringify(send.params)}`,
    ...(send.plan ?? []).map((line) => `plan: ${line}`),
    ...(send.rowsAffected !== undefined ? [`rows affected (rolled back): ${send.rowsAffected}`] : []),
  ];
}
