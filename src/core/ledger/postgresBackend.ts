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
import type { Client } from 'pg';
import { UserError } from '../model/types';
import { connectClient } from '../sources/postgres/connection';
import type { LedgerBackend, LockInfo, RunLock } from './ledger';
import { PostgresLedger, type PostgresLedgerPlace } from './postgresLedger';
import { retryThroughOutage } from './postgresOutage';
import { PostgresRecorder } from './postgresRecorder';

/** A PostgreSQL ledger has no journal: a run that crashed left nothing to recover but its `running` row. */
const NOTHING_TO_RECOVER = { entries: 0, lastSeq: 0, validBytes: 0 };

export function postgresBackend(place: PostgresLedgerPlace): LedgerBackend {
  return {
    open: () => PostgresLedger.open(place),
    lockRuns: (runbookFile, holder) => lockPostgresRuns(place, holder, runbookFile),
    async openForRun() {
      const ledger = await PostgresLedger.open(place);
      return { ledger, journal: new PostgresRecorder(ledger), recovered: NOTHING_TO_RECOVER };
    },
  };
}

/**
 * Takes the ledger's run lock, or refuses with who holds it and the command that stops it (`runbookFile`:
 * the runbook as the person named it).
 */
export async function lockPostgresRuns(
  place: PostgresLedgerPlace,
  holder: LockInfo,
  runbookFile?: string,
): Promise<RunLock> {
  // Opening the ledger creates the schema when it is new, and gives the name the lock is keyed by.
  const ledger = await PostgresLedger.open(place);
  const { schema, name } = ledger.identity;
  const where = ledger.location;
  const allowanceMs = ledger.outageAllowanceMs;
  await ledger.close();
  const key = `backfill-run:${schema}:${name}`;
  const client = await connectClient(place.url);
  try {
    const held = await takeAdvisoryLock(client, key, schema, name, holder);
    if (held !== true) throw refusal(held, where, stopCommand(runbookFile, place));
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return new PostgresRunLock(place.url, where, holder, client, { key, schema, name, allowanceMs });
}

/**
 * Takes the advisory lock on `client`'s session and names `holder` in `run_locks`; true when taken,
 * else who holds it (undefined when the holder row says nothing).
 */
async function takeAdvisoryLock(
  client: Client,
  key: string,
  schema: string,
  name: string,
  holder: LockInfo,
): Promise<true | LockInfo | undefined> {
  const [row] = (await client.query('SELECT pg_try_advisory_lock(hashtext($1)) AS taken', [key])).rows;
  if (row?.taken !== true) {
    const [held] = (await client.query(`SELECT holder FROM ${schema}.run_locks WHERE ledger = $1`, [name]))
      .rows;
    return held ? (JSON.parse(String(held.holder)) as LockInfo) : undefined;
  }
  await client.query(
    `INSERT INTO ${schema}.run_locks (ledger, holder) VALUES ($1, $2)
     ON CONFLICT (ledger) DO UPDATE SET holder = excluded.holder`,
    [name, JSON.stringify(holder)],
  );
  return true;
}

/**
 * The run lock's session. The database going away (a restart) ends it, and with it the advisory lock:
 * the lock reconnects with backoff and takes the lock again. Another process may have taken it meanwhile
 * (a second `backfill run` started during the outage): then two runs would write one ledger, so this
 * one is told the lock is lost, and halts. So it is too when the database stays away past the allowance.
 */
class PostgresRunLock implements RunLock {
  private released = false;
  private retaking = false;
  private lost: string | undefined;
  private readonly listeners: ((reason: string) => void)[] = [];

  constructor(
    private readonly url: string,
    readonly file: string,
    readonly info: LockInfo,
    private client: Client,
    private readonly lock: { key: string; schema: string; name: string; allowanceMs: number },
  ) {
    this.watch(client);
  }

  onLost(listener: (reason: string) => void): void {
    if (this.lost !== undefined) listener(this.lost);
    else this.listeners.push(listener);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // Ending the session releases the advisory lock; the holder row is only read while it is held.
    void this.client.end().catch(() => undefined);
  }

  private watch(client: Client): void {
    client.once('end', () => {
      if (!this.released && this.client === client && !this.retaking) void this.retake();
    });
  }

  private async retake(): Promise<void> {
    const { key, schema, name, allowanceMs } = this.lock;
    this.retaking = true;
    try {
      const held = await retryThroughOutage(
        async () => {
          if (this.released) return true;
          // The first try, on the ended session, fails as a lost connection: a new one takes the lock.
          return takeAdvisoryLock(this.client, key, schema, name, this.info);
        },
        {
          reconnect: async () => {
            const fresh = await connectClient(this.url);
            void this.client.end().catch(() => undefined);
            this.client = fresh;
            this.watch(fresh);
            if (this.released) void fresh.end().catch(() => undefined);
          },
          allowanceMs,
        },
      );
      if (this.released || held === true) return;
      const who = held ? `pid ${held.pid} on ${held.host} (run ${held.runId})` : 'another process';
      this.lose(
        `the run lock of ${this.file} was taken by ${who} while the database was away: this run stops, ` +
          'so that one run at a time writes the ledger',
      );
    } catch (error) {
      this.lose(
        `the run lock of ${this.file} could not be taken again after the database went away ` +
          `(${(error as Error).message}): this run stops; run the same command to resume`,
      );
    } finally {
      this.retaking = false;
    }
  }

  private lose(reason: string): void {
    if (this.lost !== undefined || this.released) return;
    this.lost = reason;
    void this.client.end().catch(() => undefined);
    for (const listener of this.listeners.splice(0)) listener(reason);
  }
}

/**
 * `backfill control orders.backfill stop --env prod`: the environment is always named, since it is what
 * tells `control` that the run is steered through this database.
 */
function stopCommand(runbookFile: string | undefined, place: PostgresLedgerPlace): string {
  const env = place.environment ? ` --env ${place.environment}` : '';
  return `backfill control ${runbookFile ?? 'the-runbook.backfill'} stop${env}`;
}

function refusal(holder: LockInfo | undefined, where: string, stop: string): UserError {
  const who = holder
    ? `pid ${holder.pid} on ${holder.host} since ${holder.startedAt} (run ${holder.runId}, cell ${holder.cell})`
    : 'another process';
  return new UserError(
    `runbook is already being run by ${who}, which holds the run lock of ${where}: wait for it, or stop it ` +
      `with ${stop} on any host`,
  );
}
