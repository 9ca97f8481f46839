/**
 * The PostgreSQL ledger as a {@link LedgerBackend}: opened, locked and recorded into in the database, so
 * processes on any host see the same ledger. Nothing of it lives beside the runbook.
 *
 * The run lock is a session-level advisory lock held on a connection of its own: the database releases
 * it when that connection ends, so a run that dies (kill -9, a host gone) never leaves a stale lock to
 * take over. `run_locks` names the holder for the message a refused run shows.
 *
 * This folder cannot depend on the vscode API.
 */
import { UserError } from '../model/types';
import { connectClient } from '../sources/postgres/connection';
import type { LedgerBackend, LockInfo, RunLock } from './ledger';
import { PostgresLedger, type PostgresLedgerPlace } from './postgresLedger';
import { PostgresRecorder } from './postgresRecorder';

/** A PostgreSQL ledger has no journal: a run that crashed left nothing to recover but its `running` row. */
const NOTHING_TO_RECOVER = { entries: 0, lastSeq: 0, validBytes: 0 };

export function postgresBackend(place: PostgresLedgerPlace): LedgerBackend {
  return {
    open: () => PostgresLedger.open(place),
    lockRuns: (_runbookFile, holder) => lockPostgresRuns(place, holder),
    async openForRun() {
      const ledger = await PostgresLedger.open(place);
      return { ledger, journal: new PostgresRecorder(ledger), recovered: NOTHING_TO_RECOVER };
    },
  };
}

/** Takes the ledger's run lock, or refuses with who holds it. */
export async function lockPostgresRuns(place: PostgresLedgerPlace, holder: LockInfo): Promise<RunLock> {
  // Opening the ledger creates the schema when it is new, and gives the name the lock is keyed by.
  const ledger = await PostgresLedger.open(place);
  const { schema, name } = ledger.identity;
  const where = ledger.location;
  await ledger.close();
  const client = await connectClient(place.url);
  try {
    const key = `backfill-run:${schema}:${name}`;
    const [row] = (await client.query('SELECT pg_try_advisory_lock(hashtext($1)) AS taken', [key])).rows;
    if (row?.taken !== true) {
      const [held] = (await client.query(`SELECT holder FROM ${schema}.run_locks WHERE ledger = $1`, [name]))
        .rows;
      throw refusal(held ? (JSON.parse(String(held.holder)) as LockInfo) : undefined, where);
    }
    await client.query(
      `INSERT INTO ${schema}.run_locks (ledger, holder) VALUES ($1, $2)
       ON CONFLICT (ledger) DO UPDATE SET holder = excluded.holder`,
      [name, JSON.stringify(holder)],
    );
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  let released = false;
  return {
    file: where,
    info: holder,
    release() {
      if (released) return;
      released = true;
      // Ending the session releases the advisory lock; the holder row is only read while it is held.
      void client.end().catch(() => undefined);
    },
  };
}

function refusal(holder: LockInfo | undefined, where: string): UserError {
  const who = holder
    ? `pid ${holder.pid} on ${holder.host} since ${holder.startedAt} (run ${holder.runId}, cell ${holder.cell})`
    : 'another process';
  return new UserError(
    `runbook is already being run by ${who}, which holds the run lock of ${where}: wait for it, or stop it ` +
      'with backfill control FILE stop on its host',
  );
}
