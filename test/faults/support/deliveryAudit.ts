/**
 * The fault suite's audit: compares what the target really received with what the ledger holds, so a
 * test fails when a record is lost, sent under two idempotency keys, or counted as done without being
 * delivered — whatever the tool printed.
 */
import { strict as assert } from 'node:assert';
import { ledgerRows as rowsOfLedger, type LedgerRow } from '../../support/cliWorkspace';
import { keyOf } from '../../support/runbookFixture';
import type { FaultTarget } from './faultTarget';

export type { LedgerRow } from '../../support/cliWorkspace';

/** The latest outcome of every record of the runbook's execute cells, read through `backfill ledger`. */
export function ledgerRows(file: string, status?: string): Promise<LedgerRow[]> {
  return rowsOfLedger(file, status ? { status } : {});
}

/** The fixture's valid keys: k00001 … k0000N. */
export function validKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => keyOf(i + 1));
}

/**
 * Asserts that no record was lost: every valid key is in the ledger as succeeded or failed, every
 * succeeded key reached the target, every valid key either reached the target or is recorded as failed,
 * nothing else reached it, and each key always arrived with the one idempotency key the ledger holds.
 * Returns the ledger rows for further assertions.
 */
export async function assertNoneLost(file: string, target: FaultTarget, expected: string[]) {
  const rows = await ledgerRows(file);
  const byStatus = (status: string) =>
    rows
      .filter((r) => r.status === status)
      .map((r) => r.key)
      .sort();
  const succeeded = byStatus('succeeded');
  const failed = byStatus('failed');
  const received = target.receivedKeys();
  assert.deepEqual([...succeeded, ...failed].sort(), expected, 'every valid record has a final outcome');
  assert.deepEqual(
    [...new Set([...received, ...failed])].sort(),
    expected,
    'every valid record was delivered or recorded as failed',
  );
  assert.deepEqual(
    received.filter((key) => !expected.includes(key)),
    [],
    'only valid records reached the target',
  );
  const missing = succeeded.filter((key) => !received.includes(key));
  assert.deepEqual(missing, [], 'a record recorded as succeeded really reached the target');
  const ledgerKey = new Map(rows.map((r) => [r.key, r.idempotencyKey]));
  for (const [key, idempotencyKeys] of target.idempotencyKeysByKey()) {
    assert.deepEqual(
      [...idempotencyKeys],
      [ledgerKey.get(key)],
      `${key} arrived with exactly the idempotency key the ledger holds`,
    );
  }
  return { rows, succeeded, failed, received };
}
