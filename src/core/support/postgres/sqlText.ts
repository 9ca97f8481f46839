/** Pieces of SQL text the engine writes itself (never from record values). Cannot depend on the vscode API. */

/** `name` as a quoted identifier: `"order id"`, with inner quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
