/**
 * The PostgreSQL ledger: the second implementation of {@link Ledger}, for backfills that outgrow one
 * machine. Many processes on many hosts open the same ledger; the database serialises their writes, so
 * unlike the embedded ledger nothing is held in memory and nothing needs folding: every write is durable
 * when it resolves, and `save()` has nothing left to do.
 *
 * The connection URL comes from a secret and is never shown: `location` names the host, port, database,
 * schema and ledger name only.
 *
 * This class owns the runs and the record outcomes; the production gate's evidence (dry runs, sign-offs)
 * is in postgresGateRecords.ts, and the connection that outlives a database restart in postgresSession.ts.
 *
 * This folder cannot depend on the vscode API.
 */
import type { Client } from 'pg';
import { RECORD_STATUSES } from '../model/runs';
import type { ErrorKind, RecordOutcome, RecordStatus, RunOutcome, RunRecord, SignOff } from '../model/runs';
import { connectClient, describeUrl } from '../sources/postgres/connection';
import type { ChainTally, DryRunRow, Ledger, OutcomeFilter, OutcomePlace, StatusCounts } from './ledger';
import { PostgresGateRecords } from './postgresGateRecords';
import { outageAllowanceMsOf, outageSettingOf } from './postgresOutage';
import { migratePostgresLedger } from './postgresSchema';
import { numbered, PostgresSession } from './postgresSession';
import type { Row } from './rows';
import { OUTCOME_COLUMNS, outcomeParameters, runParameters, RUN_COLUMNS, toOutcome, toRun } from './rows';

/** Where a PostgreSQL ledger is: the database, the schema of backfill's tables, and this ledger's name. */
export interface PostgresLedgerPlace {
  /** A connection URL; it may hold a password, so it is never shown or stored. */
  url: string;
  /** The ledger's name in the database: many runbooks can share one. */
  name: string;
  /** The schema of backfill's tables (default `backfill`). */
  schema?: string;
  /** How long a run waits for the database to come back before it halts (default 300 s). */
  outageSeconds?: number;
  /** The runbook environment whose ledger this is, for the commands and settings messages name. */
  environment?: string;
}

/** Outcomes read per round trip while streaming: pages keep memory flat whatever the ledger's size. */
const PAGE = 2000;

export class PostgresLedger implements Ledger {
  /** Chain name → id in `chains`, as this process has met them. */
  private readonly chainIds = new Map<string, number>();
  private readonly db: PostgresSession;
  private readonly gate: PostgresGateRecords;

  private constructor(
    client: Client,
    private readonly place: PostgresLedgerPlace,
    private readonly name: string,
    private readonly schema: string,
    readonly location: string,
  ) {
    this.db = new PostgresSession(client, place);
    this.gate = new PostgresGateRecords(this.db, schema, name);
  }

  /** Connects, creates or migrates backfill's schema if needed, and opens the ledger `place.name`. */
  static async open(place: PostgresLedgerPlace): Promise<PostgresLedger> {
    const schema = place.schema ?? 'backfill';
    const location = `PostgreSQL ${describeUrl(place.url)} (schema ${schema}, ledger ${place.name})`;
    const client = await connectClient(place.url);
    try {
      await migratePostgresLedger(client, schema, location);
      return new PostgresLedger(client, place, place.name, schema, location);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  recordDryRun(row: DryRunRow): Promise<void> {
    return this.gate.recordDryRun(row);
  }

  dryRuns(cell?: string): Promise<DryRunRow[]> {
    return this.gate.dryRuns(cell);
  }

  passingDryRun(fingerprint: string): Promise<DryRunRow | undefined> {
    return this.gate.passingDryRun(fingerprint);
  }

  async startRun(run: RunRecord): Promise<void> {
    const updates = RUN_COLUMNS.filter((column) => column !== 'id')
      .map((column) => `${column} = excluded.${column}`)
      .join(', ');
    const values = [this.name, ...runParameters(run)];
    await this.db.statement(
      `INSERT INTO ${this.schema}.runs (ledger, ${RUN_COLUMNS.join(', ')}) VALUES (${numbered(values.length)})
       ON CONFLICT (ledger, id) DO UPDATE SET ${updates}`,
      values,
    );
  }

  async finishRun(
    id: string,
    outcome: RunOutcome,
    reason?: string,
    counts?: string,
    endedAt: string = new Date().toISOString(),
  ): Promise<boolean> {
    const result = await this.db.statement(
      `UPDATE ${this.schema}.runs SET outcome = $1, reason = $2, counts = $3, ended_at = $4
        WHERE ledger = $5 AND id = $6`,
      [outcome, reason ?? null, counts ?? null, endedAt, this.name, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async runs(cell?: string): Promise<RunRecord[]> {
    const byCell = cell === undefined ? '' : 'AND cell = $2';
    const rows = await this.db.rows(
      `SELECT * FROM ${this.schema}.runs WHERE ledger = $1 ${byCell} ORDER BY started_at DESC, seq DESC`,
      cell === undefined ? [this.name] : [this.name, cell],
    );
    return rows.map(toRun);
  }

  async latestRun(cell: string): Promise<RunRecord | undefined> {
    const [row] = await this.db.rows(
      `SELECT * FROM ${this.schema}.runs WHERE ledger = $1 AND cell = $2 ORDER BY started_at DESC, seq DESC LIMIT 1`,
      [this.name, cell],
    );
    return row && toRun(row);
  }

  async runningRuns(): Promise<RunRecord[]> {
    const rows = await this.db.rows(
      `SELECT * FROM ${this.schema}.runs WHERE ledger = $1 AND outcome = 'running' ORDER BY started_at, seq`,
      [this.name],
    );
    return rows.map(toRun);
  }

  async lastOutcomeAt(run: string): Promise<string | undefined> {
    const [row] = await this.db.rows(
      `SELECT MAX(r.at) AS at FROM ${this.schema}.records r JOIN ${this.schema}.chains c ON c.id = r.chain
        WHERE c.ledger = $1 AND r.run = $2`,
      [this.name, run],
    );
    return typeof row?.at === 'string' ? row.at : undefined;
  }

  /**
   * Upserts in one statement per call. PostgreSQL refuses to update one row twice in a statement, and a
   * later outcome of a key replaces an earlier one anyway, so only the last of each key is sent.
   */
  async recordOutcomes(outcomes: Iterable<RecordOutcome>): Promise<number> {
    const latest = new Map<string, RecordOutcome>();
    let count = 0;
    for (const outcome of outcomes) {
      const id = `${outcome.chain}\u0000${outcome.key}`;
      latest.delete(id); // re-inserted last: the statement keeps the order outcomes arrived in
      latest.set(id, outcome);
      count += 1;
    }
    if (latest.size === 0) return 0;
    const ids = await this.chainIdsOf(new Set([...latest.values()].map((outcome) => outcome.chain)));
    const columns = OUTCOME_COLUMNS.map(() => [] as unknown[]);
    for (const outcome of latest.values()) {
      const row = outcomeParameters(outcome, { chain: ids.get(outcome.chain)!, run: 0, cell: 0 });
      row[OUTCOME_COLUMNS.indexOf('run')] = outcome.run;
      row[OUTCOME_COLUMNS.indexOf('cell')] = outcome.cell;
      row.forEach((value, column) => columns[column]!.push(value));
    }
    const types = OUTCOME_COLUMNS.map(
      (column) => `$${OUTCOME_COLUMNS.indexOf(column) + 1}::${ARRAY_TYPES[column]}[]`,
    );
    const updates = OUTCOME_COLUMNS.filter((column) => column !== 'chain' && column !== 'key')
      .map((column) => `${column} = excluded.${column}`)
      .join(', ');
    await this.db.statement(
      `INSERT INTO ${this.schema}.records (${OUTCOME_COLUMNS.join(', ')})
       SELECT * FROM unnest(${types.join(', ')})
       ON CONFLICT (chain, key) DO UPDATE SET ${updates}`,
      columns,
    );
    return count;
  }

  /** Chain by chain in the order the ledger first stored them, each in line order, a page at a time. */
  async *outcomes(filter: OutcomeFilter = {}): AsyncGenerator<RecordOutcome> {
    const statuses = filter.status === undefined ? undefined : [filter.status].flat();
    if (statuses?.length === 0) return;
    const conditions = ['c.ledger = $1'];
    const parameters: unknown[] = [this.name];
    const condition = (sql: (n: number) => string, value: unknown) => {
      parameters.push(value);
      conditions.push(sql(parameters.length));
    };
    if (filter.chain !== undefined) condition((n) => `c.name = $${n}`, filter.chain);
    if (filter.cell !== undefined) condition((n) => `r.cell = $${n}`, filter.cell);
    if (statuses !== undefined) condition((n) => `r.status = ANY($${n})`, statuses);
    const after = parameters.length;
    let cursor: [number, number, string] = [0, -1, ''];
    for (;;) {
      const rows = await this.db.rows(
        `SELECT c.name AS chain_name, r.chain AS chain_id, r.* FROM ${this.schema}.records r
           JOIN ${this.schema}.chains c ON c.id = r.chain
          WHERE ${conditions.join(' AND ')} AND (r.chain, r.line, r.key) > ($${after + 1}, $${after + 2}, $${after + 3})
          ORDER BY r.chain, r.line, r.key LIMIT ${PAGE}`,
        [...parameters, ...cursor],
      );
      for (const row of rows) yield toOutcome({ ...row, chain: row.chain_name ?? null }, String);
      const last = rows.at(-1);
      if (rows.length < PAGE || !last) return;
      cursor = [Number(last.chain_id), Number(last.line), String(last.key)];
    }
  }

  async outcomePlaces(
    chain: string,
    after: { line: number; key: string } | undefined,
    limit: number,
  ): Promise<OutcomePlace[]> {
    if (limit <= 0) return [];
    const from = after ?? { line: -1, key: '' };
    const rows = await this.chainRows(
      chain,
      'SELECT r.line, r.key, r.status, r.at',
      `AND (r.line, r.key) > ($3, $4) ORDER BY r.line, r.key LIMIT ${Math.floor(limit)}`,
      [from.line, from.key],
    );
    return rows.map((row) => ({
      line: Number(row.line),
      key: String(row.key),
      status: String(row.status) as RecordStatus,
      at: String(row.at),
    }));
  }

  async keysWithStatus(chain: string, statuses: readonly RecordStatus[]): Promise<Set<string>> {
    if (statuses.length === 0) return new Set();
    const rows = await this.chainRows(chain, 'SELECT r.key', 'AND r.status = ANY($3)', [statuses]);
    return new Set(rows.map((row) => String(row.key)));
  }

  async outcomeOf(chain: string, key: string): Promise<RecordOutcome | undefined> {
    const [row] = await this.chainRows(chain, 'SELECT c.name AS chain_name, r.*', 'AND r.key = $3', [key]);
    return row && toOutcome({ ...row, chain: row.chain_name ?? null }, String);
  }

  async countByStatus(chain: string): Promise<StatusCounts> {
    const counts = Object.fromEntries(RECORD_STATUSES.map((status) => [status, 0])) as StatusCounts;
    for (const tally of await this.tallyChain(chain)) counts[tally.status] += tally.count;
    return counts;
  }

  /** From `tallies`, which triggers keep as outcomes are written (postgresSchema.ts, version 4): no scan. */
  async tallyChain(chain: string): Promise<ChainTally[]> {
    const rows = await this.db.rows(
      `SELECT t.status, t.error_kind, t.run, SUM(t.n) AS n
         FROM ${this.schema}.tallies t JOIN ${this.schema}.chains c ON c.id = t.chain
        WHERE c.ledger = $1 AND c.name = $2
        GROUP BY t.status, t.error_kind, t.run HAVING SUM(t.n) <> 0`,
      [this.name, chain],
    );
    return rows.map((row) => ({
      status: String(row.status) as RecordStatus,
      ...(row.error_kind === '' ? {} : { errorKind: String(row.error_kind) as ErrorKind }),
      run: String(row.run),
      count: Number(row.n),
    }));
  }

  recordSignOff(signOff: SignOff): Promise<void> {
    return this.gate.recordSignOff(signOff);
  }

  signOffs(checklist?: string): Promise<SignOff[]> {
    return this.gate.signOffs(checklist);
  }

  /** Every write was committed when it resolved. */
  async save(): Promise<void> {}

  /** Runs `work` in one transaction: all of its writes are committed, or none (see {@link PostgresSession}). */
  transaction(work: () => Promise<void>): Promise<void> {
    return this.db.transaction(work);
  }

  /** The schema and name this ledger has in its database: what the run lock is named after. */
  get identity(): { schema: string; name: string } {
    return { schema: this.schema, name: this.name };
  }

  /** A new connection after the database went away; chain ids stay valid, the schema is there already. */
  reconnect(): Promise<void> {
    return this.db.reconnect();
  }

  /** Since when (ms since the epoch) the database has been unreachable to the run's commits, while it is. */
  unreachableSince: number | undefined;

  /** The setting that says how long an outage may last: `environments.prod.ledger.outageSeconds`. */
  get outageSetting(): string {
    return outageSettingOf(this.place);
  }

  /** How long a run waits for this ledger's database to come back before it halts. */
  get outageAllowanceMs(): number {
    return outageAllowanceMsOf(this.place);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** `select` from a chain's records (`r`, joined to `c`) with more conditions or a GROUP BY after. */
  private async chainRows(chain: string, select: string, rest: string, more: unknown[] = []): Promise<Row[]> {
    return this.db.rows(
      `${select} FROM ${this.schema}.records r JOIN ${this.schema}.chains c ON c.id = r.chain
        WHERE c.ledger = $1 AND c.name = $2 ${rest}`,
      [this.name, chain, ...more],
    );
  }

  /** The ids of these chains, creating those the ledger does not have yet. */
  private async chainIdsOf(chains: Set<string>): Promise<Map<string, number>> {
    const missing = [...chains].filter((chain) => !this.chainIds.has(chain));
    if (missing.length > 0) {
      await this.db.statement(
        `INSERT INTO ${this.schema}.chains (ledger, name) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
        [this.name, missing],
      );
      const rows = await this.db.rows(
        `SELECT id, name FROM ${this.schema}.chains WHERE ledger = $1 AND name = ANY($2)`,
        [this.name, missing],
      );
      for (const row of rows) this.chainIds.set(String(row.name), Number(row.id));
    }
    return this.chainIds;
  }

  /** Runs one statement on the ledger's connection: inside {@link transaction}, part of it (the run's chunks). */
  async query(sql: string, parameters: unknown[]): Promise<{ rows: Row[] }> {
    return { rows: await this.db.rows(sql, parameters) };
  }
}

/** The PostgreSQL type of each outcome column, for `unnest` of one array per column. */
const ARRAY_TYPES: Record<(typeof OUTCOME_COLUMNS)[number], string> = {
  chain: 'integer',
  key: 'text',
  run: 'text',
  cell: 'text',
  status: 'text',
  attempts: 'integer',
  line: 'bigint',
  last_error: 'text',
  error_kind: 'text',
  http_status: 'integer',
  duration_ms: 'double precision',
  idempotency_key: 'text',
  at: 'text',
  expected: 'text',
  actual: 'text',
  rows_affected: 'bigint',
};
