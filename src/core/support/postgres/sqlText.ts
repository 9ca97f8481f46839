/** Pieces of SQL text the engine writes itself (never from record values). Cannot depend on the vscode API. */

/** `name` as a quoted identifier: `"order id"`, with inner quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A query sent with the extended protocol even without parameters (pg sends a parameterless one as a
 * simple query, which runs every statement of the text): one statement, never more.
 */
export function extendedQuery(text: string, values: unknown[] = []): { text: string; values: unknown[] } {
  // `queryMode` is pg's own option (pg ≥ 8.12), missing from its type definitions.
  return Object.assign({ text, values }, { queryMode: 'extended' });
}
