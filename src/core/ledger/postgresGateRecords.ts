/**
 * The production gate's evidence in a PostgreSQL ledger: the dry runs (a production run needs a passing
 * one with its fingerprint) and the checklist sign-offs. Kept apart from the runs and record outcomes,
 * which a run writes and workers share; these are written by `backfill dry-run` and `backfill sign` and
 * read by the gate.
 *
 * This folder cannot depend on the vscode API.
 */
import type { SignOff } from '../model/runs';
import type { DryRunRow } from './ledger';
import { numbered, type PostgresSession } from './postgresSession';
import { dryRunParameters, toDryRunRow, toSignOff } from './rows';

export class PostgresGateRecords {
  constructor(
    private readonly db: PostgresSession,
    private readonly schema: string,
    private readonly name: string,
  ) {}

  async recordDryRun(row: DryRunRow): Promise<void> {
    const values = [this.name, ...dryRunParameters(row)];
    await this.db.statement(
      `INSERT INTO ${this.schema}.dry_runs (ledger, id, cell, job, environment, operator, host, started_at,
         finished_at, definition_hash, content_hash, fingerprint, passed, total, valid, rejected, duplicates, report)
       VALUES (${numbered(values.length)})`,
      values,
    );
  }

  async dryRuns(cell?: string): Promise<DryRunRow[]> {
    const byCell = cell === undefined ? '' : 'AND cell = $2';
    const rows = await this.db.rows(
      `SELECT * FROM ${this.schema}.dry_runs WHERE ledger = $1 ${byCell} ORDER BY started_at DESC, seq DESC`,
      cell === undefined ? [this.name] : [this.name, cell],
    );
    return rows.map(toDryRunRow);
  }

  async passingDryRun(fingerprint: string): Promise<DryRunRow | undefined> {
    const [row] = await this.db.rows(
      `SELECT * FROM ${this.schema}.dry_runs WHERE ledger = $1 AND fingerprint = $2 AND passed = 1
        ORDER BY started_at DESC, seq DESC LIMIT 1`,
      [this.name, fingerprint],
    );
    return row && toDryRunRow(row);
  }

  async recordSignOff(signOff: SignOff): Promise<void> {
    await this.db.statement(
      `INSERT INTO ${this.schema}.signoffs (ledger, checklist, item, signed_by, at, checked)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [this.name, signOff.checklist, signOff.item, signOff.by, signOff.at, signOff.checked ? 1 : 0],
    );
  }

  async signOffs(checklist?: string): Promise<SignOff[]> {
    const byChecklist = checklist === undefined ? '' : 'AND checklist = $2';
    const rows = await this.db.rows(
      `SELECT * FROM ${this.schema}.signoffs WHERE ledger = $1 ${byChecklist} ORDER BY id`,
      checklist === undefined ? [this.name] : [this.name, checklist],
    );
    return rows.map(toSignOff);
  }
}
