import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { findBundledFile } from './bundledFile';

let loading: Promise<SqlJsStatic> | undefined;

/**
 * Loads sql.js once per process. The wasm file sits beside the bundle (dist/sql-wasm.wasm) when built,
 * and in node_modules when run from source; BACKFILL_SQL_WASM overrides both.
 */
export function loadSqlJs(): Promise<SqlJsStatic> {
  loading ??= initSqlJs({ locateFile: () => sqlWasmPath() });
  return loading;
}

function sqlWasmPath(): string {
  const found = findBundledFile('sql-wasm.wasm', 'sql.js/dist/sql-wasm.wasm', process.env.BACKFILL_SQL_WASM);
  if (!found) throw new Error('sql-wasm.wasm not found: reinstall the package or set BACKFILL_SQL_WASM');
  return found;
}
