/**
 * What a PostgreSQL error means for a record: retry it (serialization failure, deadlock, a dropped
 * connection, a statement timeout) or fail it with the database's own words. Cannot depend on the vscode API.
 */
import { scrub } from '../../sources/postgres/connection';
import type { Failure } from '../attempt';
import { errorCode, errorMessage } from '../attempt';

/** SQLSTATEs worth a retry: the same statement can succeed once the conflicting transaction is gone. */
const RETRYABLE = new Set(['40001', '40P01', '55P03']);

/** The failure an error of a statement (or of connecting) is, for the runner's retry decision. */
export function sqlFailure(error: unknown, url: string): Failure {
  const code = errorCode(error);
  const message = scrub(errorMessage(error), url);
  if (code && RETRYABLE.has(code)) {
    return { kind: 'other', retryable: true, message: `PostgreSQL: ${message} (${code}), retried` };
  }
  if (code === '57014')
    return { kind: 'timeout', retryable: true, message: `PostgreSQL: ${message} (${code})` };
  if (!code || !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('08') || code.startsWith('57P')) {
    return { kind: 'connection', retryable: true, message: `PostgreSQL connection: ${message}` };
  }
  return { kind: 'other', retryable: false, message: `PostgreSQL says: ${message} (${code})` };
}

/** Errors in the statement itself (syntax, unknown table or column, privileges): no record can succeed. */
export function isStatementError(error: unknown): boolean {
  const code = errorCode(error) ?? '';
  return code.startsWith('42');
}
