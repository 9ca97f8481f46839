/**
 * The `chunks` table of a PostgreSQL ledger: a shared run's chunks, claimed by workers with a lease.
 *
 * Why plain SQL and not pg-boss or graphile-worker: a claim has to agree with the outcomes it guards.
 * Here both live in the ledger's own database and schema — a chunk is marked done only after the
 * transaction holding its records' outcomes committed, a claim reads those outcomes to skip finished
 * records, the last chunk's completion is decided under the run's row lock, and the run's end goes into
 * the same `runs` row every other command reads. A job queue would keep its jobs in tables of its own,
 * with its own retry and expiry rules and its own idea of "done", beside the ledger rather than with it;
 * the part of it used here is one `SELECT … FOR UPDATE SKIP LOCKED` and one lease column.
 *
 * A claim takes a pending chunk, or a leased one whose lease ran out (its worker died or lost the
 * database): the next one after the claimer's position in the source first, so a worker reading the
 * source once rarely has to read it again. Leases are database time (`now()`), so hosts' clocks need
 * not agree.
 *
 * This folder cannot depend on the vscode API.
 */
import type { Client } from 'pg';
import { DEFAULT_OUTAGE_SECONDS, retryThroughOutage } from '../ledger/postgresOutage';
import { connectClient } from '../sources/postgres/connection';
import type { ChunkRange } from './chunkRanges';

/** Anything that runs a query: a client, or a ledger inside its transaction. */
export interface Queryable {
  query(sql: string, parameters: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** A chunk this worker claimed. */
export interface ClaimedChunk extends ChunkRange {
  /** How many times it was claimed, this claim included: more than 1 is a takeover. */
  claims: number;
}

/** What is left of a run when nothing could be claimed. */
export interface Remaining {
  /** Chunks not done: pending, or leased by a worker (perhaps this one). */
  open: number;
  /** Chunks leased by other workers, whose leases may still run out. */
  heldElsewhere: number;
  /** Milliseconds until the soonest of those leases runs out (0 when one already has). */
  soonestExpiryMs: number | undefined;
  /** The run's outcome now: `running` while it is live. */
  runOutcome: string | undefined;
}

/** Where the chunks are: the ledger's schema and name, and the run. */
export interface ChunkScope {
  schema: string;
  ledger: string;
  run: string;
}

/** Writes a new run's chunks, inside the caller's transaction (the one that records the run's start). */
export async function insertChunks(db: Queryable, scope: ChunkScope, ranges: readonly ChunkRange[]) {
  await db.query(
    `INSERT INTO ${scope.schema}.chunks
            (ledger, run, n, first_line, last_line, key_from, key_to, rows_hash, first_byte)
     SELECT $1, $2, unnest($3::integer[]), unnest($4::bigint[]), unnest($5::bigint[]), unnest($6::text[]),
            unnest($7::text[]), unnest($8::text[]), unnest($9::bigint[])`,
    [
      scope.ledger,
      scope.run,
      ranges.map((range) => range.n),
      ranges.map((range) => range.firstLine),
      ranges.map((range) => range.lastLine),
      ranges.map((range) => range.keys?.after ?? null),
      ranges.map((range) => range.keys?.through ?? null),
      ranges.map((range) => range.keys?.rowsHash ?? null),
      ranges.map((range) => range.firstByte ?? null),
    ],
  );
}

/** Whether a run has chunks at all: a re-run of chosen records runs in one process and has none. */
export async function hasChunks(db: Queryable, scope: ChunkScope): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM ${scope.schema}.chunks WHERE ledger = $1 AND run = $2 LIMIT 1`,
    [scope.ledger, scope.run],
  );
  return rows.length > 0;
}

/**
 * The run of `cell` still `running` with a chunk under a live lease — workers are at it — if any. A
 * `backfill run` finding one joins it (its creator is gone) instead of marking it crashed under them.
 */
export async function workedSharedRun(
  url: string,
  where: Omit<ChunkScope, 'run'>,
  cell: string,
): Promise<string | undefined> {
  const client = await connectClient(url);
  try {
    const { rows } = await client.query(
      `SELECT r.id FROM ${where.schema}.runs r
        WHERE r.ledger = $1 AND r.cell = $2 AND r.outcome = 'running'
          AND EXISTS (SELECT 1 FROM ${where.schema}.chunks c WHERE c.ledger = r.ledger AND c.run = r.id
                       AND c.state = 'leased' AND c.lease_until > now())
        ORDER BY r.started_at DESC LIMIT 1`,
      [where.ledger, cell],
    );
    return rows[0] ? String((rows[0] as Record<string, unknown>).id) : undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Gives back the chunks of `cell`'s running runs leased by processes of this host that are gone (kill -9,
 * a crash): a resume on the same host need not wait for their leases to run out. Only this host's
 * processes can be known dead from here; a pid reused since only makes the chunk wait for its lease.
 */
export async function releaseDeadLocalLeases(
  url: string,
  where: Omit<ChunkScope, 'run'>,
  cell: string,
  host: string,
  isAlive: (pid: number) => boolean,
): Promise<number> {
  const client = await connectClient(url);
  try {
    const { rows } = await client.query(
      `SELECT c.run, c.n, c.worker FROM ${where.schema}.chunks c
         JOIN ${where.schema}.runs r ON r.ledger = c.ledger AND r.id = c.run
        WHERE c.ledger = $1 AND r.cell = $2 AND r.outcome = 'running' AND c.state = 'leased'
          AND starts_with(c.worker, $3)`,
      [where.ledger, cell, `${host}:`],
    );
    let released = 0;
    for (const row of rows as { run: string; n: number; worker: string }[]) {
      const pid = Number(row.worker.slice(host.length + 1).split(':')[0]);
      if (!Number.isInteger(pid) || isAlive(pid)) continue;
      const result = await client.query(
        `UPDATE ${where.schema}.chunks SET state = 'pending', worker = NULL, lease_until = NULL
          WHERE ledger = $1 AND run = $2 AND n = $3 AND worker = $4 AND state = 'leased'`,
        [where.ledger, row.run, row.n, row.worker],
      );
      released += result.rowCount ?? 0;
    }
    return released;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A key-range chunk's bounds and hash as stored (NULL: unbounded, or no hash). */
function keysOf(row: Record<string, unknown>): NonNullable<ChunkRange['keys']> {
  const text = (value: unknown) => (value === null || value === undefined ? undefined : String(value));
  const [after, through, rowsHash] = [text(row.key_from), text(row.key_to), text(row.rows_hash)];
  return {
    ...(after !== undefined ? { after } : {}),
    ...(through !== undefined ? { through } : {}),
    ...(rowsHash !== undefined ? { rowsHash } : {}),
  };
}

/** One worker's connection to a run's chunks. */
export class ChunkLeases {
  /** A new connection being made after the database went away: callers that failed meanwhile share it. */
  private reconnecting: Promise<void> | undefined;
  /** The last work queued on the connection (see withClient). */
  private lastWork: Promise<unknown> = Promise.resolve();

  private constructor(
    private client: Client,
    private readonly url: string,
    private readonly scope: ChunkScope,
    /** Who claims: host, pid and a random part, as the `worker` column says. */
    readonly worker: string,
    private readonly leaseSeconds: number,
    private readonly outageAllowanceMs: number,
  ) {}

  static async connect(
    url: string,
    scope: ChunkScope,
    worker: string,
    leaseSeconds: number,
    outageAllowanceMs = DEFAULT_OUTAGE_SECONDS * 1000,
  ) {
    return new ChunkLeases(await connectClient(url), url, scope, worker, leaseSeconds, outageAllowanceMs);
  }

  /**
   * Runs `work` on the connection once the work before it is done; when the database goes away (a
   * restart), again on a new one with backoff, for as long as the outage allowance. `work` is told
   * whether it is a retry, and must be idempotent: what a lost answer was to may have been applied.
   *
   * One at a time, because renewals, claims and marking a chunk done come from different timers on one
   * connection: a claim sent while a mark-done transaction is open would run inside that transaction,
   * and be rolled back with it while the worker believes it holds the chunk.
   */
  private withClient<T>(work: (client: Client, retried: boolean) => Promise<T>): Promise<T> {
    const turn = this.lastWork.then(() => this.withClientNow(work));
    this.lastWork = turn.catch(() => undefined);
    return turn;
  }

  private withClientNow<T>(work: (client: Client, retried: boolean) => Promise<T>): Promise<T> {
    let failedOn: Client | undefined;
    return retryThroughOutage(
      () => {
        const client = this.client;
        const retried = failedOn !== undefined;
        failedOn = client;
        return work(client, retried);
      },
      { reconnect: () => this.reconnect(failedOn), allowanceMs: this.outageAllowanceMs },
    );
  }

  /** A new connection in place of `failed`, unless another caller replaced it already. */
  private async reconnect(failed: Client | undefined): Promise<void> {
    if (failed !== this.client) return;
    this.reconnecting ??= connectClient(this.url)
      .then((fresh) => {
        const old = this.client;
        this.client = fresh;
        void old.end().catch(() => undefined);
      })
      .finally(() => {
        this.reconnecting = undefined;
      });
    await this.reconnecting;
  }

  /**
   * Claims one chunk: pending, or leased with its lease run out; the first at or after chunk `from` when
   * there is one, else the first. Undefined when none can be claimed, or the run is no longer running.
   */
  async claim(from: number, byKey = false): Promise<ClaimedChunk | undefined> {
    const { schema, ledger, run } = this.scope;
    // A claim whose answer was lost leaves a chunk leased to this worker that it does not know of: it
    // waits for its lease to run out, and is then claimed again.
    const { rows } = await this.query(
      `WITH next AS (
         SELECT n FROM ${schema}.chunks
          WHERE ledger = $1 AND run = $2
            AND (state = 'pending' OR (state = 'leased' AND lease_until < now()))
            AND EXISTS (SELECT 1 FROM ${schema}.runs WHERE ledger = $1 AND id = $2 AND outcome = 'running')
          ORDER BY (n < $3), n LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE ${schema}.chunks c
          SET state = 'leased', worker = $4, lease_until = now() + make_interval(secs => $5),
              claims = c.claims + 1
         FROM next WHERE c.ledger = $1 AND c.run = $2 AND c.n = next.n
       RETURNING c.n, c.first_line, c.last_line, c.first_byte, c.key_from, c.key_to, c.rows_hash, c.claims`,
      [ledger, run, from, this.worker, this.leaseSeconds],
    );
    const row = rows[0] as Record<string, unknown> | undefined;
    if (!row) return undefined;
    return {
      n: Number(row.n),
      firstLine: Number(row.first_line),
      lastLine: Number(row.last_line),
      claims: Number(row.claims),
      ...(row.first_byte !== null && row.first_byte !== undefined
        ? { firstByte: Number(row.first_byte) }
        : {}),
      ...(byKey ? { keys: keysOf(row) } : {}),
    };
  }

  /** Keys of the run's chain with an outcome on lines `first`..`last`: what a claim of them skips. */
  async finishedKeys(chain: string, chunk: ChunkRange): Promise<string[]> {
    const { schema, ledger } = this.scope;
    const { rows } = await this.query(
      `SELECT r.key FROM ${schema}.records r JOIN ${schema}.chains c ON c.id = r.chain
        WHERE c.ledger = $1 AND c.name = $2 AND r.line BETWEEN $3 AND $4`,
      [ledger, chain, chunk.firstLine, chunk.lastLine],
    );
    return rows.map((row: Record<string, unknown>) => String(row.key));
  }

  /**
   * Renews the leases of chunks `held`; returns those still this worker's (a lease that ran out may have
   * been taken over) and the run's outcome, so a worker learns the run ended elsewhere.
   */
  async renew(held: readonly number[]): Promise<{ renewed: Set<number>; runOutcome: string | undefined }> {
    const { schema, ledger, run } = this.scope;
    const renewed = new Set<number>();
    if (held.length > 0) {
      const { rows } = await this.query(
        `UPDATE ${schema}.chunks SET lease_until = now() + make_interval(secs => $5)
          WHERE ledger = $1 AND run = $2 AND n = ANY($3::integer[]) AND worker = $4 AND state = 'leased'
        RETURNING n`,
        [ledger, run, held, this.worker, this.leaseSeconds],
      );
      for (const row of rows) renewed.add(Number(row.n));
    }
    return { renewed, runOutcome: await this.runOutcome() };
  }

  /**
   * Marks chunk `n` done, once every record of it has an outcome committed. True when it was the run's
   * last open chunk: the caller then records the run's end. Decided under the run's row lock, so of two
   * workers finishing the last two chunks at once exactly one sees none left.
   */
  async markDone(n: number): Promise<boolean> {
    const { schema, ledger, run } = this.scope;
    return this.withClient(async (client, retried) => {
      await client.query('BEGIN');
      try {
        await client.query(`SELECT 1 FROM ${schema}.runs WHERE ledger = $1 AND id = $2 FOR UPDATE`, [
          ledger,
          run,
        ]);
        // A retry after a lost answer finds the chunk done already, by this worker: that still counts.
        const marked = await client.query(
          `UPDATE ${schema}.chunks SET state = 'done', lease_until = NULL, done_at = $4
            WHERE ledger = $1 AND run = $2 AND n = $3 AND (state <> 'done' OR ($5 AND worker = $6))`,
          [ledger, run, n, new Date().toISOString(), retried, this.worker],
        );
        const { rows } = await client.query(
          `SELECT COUNT(*) AS open FROM ${schema}.chunks WHERE ledger = $1 AND run = $2 AND state <> 'done'`,
          [ledger, run],
        );
        await client.query('COMMIT');
        return (marked.rowCount ?? 0) > 0 && Number(rows[0]?.open) === 0;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /** Gives chunks `n` back (pending, no lease), for another worker to claim at once: a stop or a halt. */
  async release(chunks: readonly number[]): Promise<void> {
    if (chunks.length === 0) return;
    const { schema, ledger, run } = this.scope;
    await this.query(
      `UPDATE ${schema}.chunks SET state = 'pending', worker = NULL, lease_until = NULL
        WHERE ledger = $1 AND run = $2 AND n = ANY($3::integer[]) AND worker = $4 AND state = 'leased'`,
      [ledger, run, chunks, this.worker],
    );
  }

  /** What is left when nothing could be claimed: whether to wait for a lease to run out, or stop. */
  async remaining(): Promise<Remaining> {
    const { schema, ledger, run } = this.scope;
    const { rows } = await this.query(
      `SELECT COUNT(*) FILTER (WHERE state <> 'done') AS open,
              COUNT(*) FILTER (WHERE state = 'leased' AND worker IS DISTINCT FROM $3) AS elsewhere,
              EXTRACT(EPOCH FROM MIN(lease_until - now()) FILTER (WHERE state = 'leased' AND worker IS DISTINCT FROM $3)) * 1000 AS soonest
         FROM ${schema}.chunks WHERE ledger = $1 AND run = $2`,
      [ledger, run, this.worker],
    );
    const row = rows[0] as Record<string, unknown>;
    return {
      open: Number(row.open),
      heldElsewhere: Number(row.elsewhere),
      soonestExpiryMs: row.soonest === null ? undefined : Math.max(0, Number(row.soonest)),
      runOutcome: await this.runOutcome(),
    };
  }

  /** The run's outcome now, as the ledger has it. */
  async runOutcome(): Promise<string | undefined> {
    const { schema, ledger, run } = this.scope;
    const { rows } = await this.query(`SELECT outcome FROM ${schema}.runs WHERE ledger = $1 AND id = $2`, [
      ledger,
      run,
    ]);
    const outcome = rows[0]?.outcome;
    return outcome === undefined ? undefined : String(outcome);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  private query(sql: string, parameters: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    return this.withClient((client) => client.query(sql, parameters));
  }
}
