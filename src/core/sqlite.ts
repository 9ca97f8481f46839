import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

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
  const candidates = [
    process.env.BACKFILL_SQL_WASM,
    path.join(__dirname, 'sql-wasm.wasm'),
    safeResolve('sql.js/dist/sql-wasm.wasm'),
  ];
  const found = candidates.find((p): p is string => !!p && fs.existsSync(p));
  if (!found) throw new Error('sql-wasm.wasm not found: reinstall the package or set BACKFILL_SQL_WASM');
  return found;
}

function safeResolve(request: string): string | undefined {
  try {
    return require.resolve(request);
  } catch {
    return undefined;
  }
}
