/**
 * One kill switch and one throttle knob for a fleet: the `controls` row of a ledger, what `control.json`
 * is for a run on one host. `backfill control` changes it (seq + 1) and NOTIFYs in the same transaction;
 * every member LISTENs and polls it as a fallback. A member's overload (429, 503) is written here too,
 * so every member slows down. This folder cannot depend on the vscode API.
 */
import type { FleetDatabase } from './fleetDatabase';
import { CONTROL_CHANNEL, controlPayload } from './fleetDatabase';

/** The fleet's control state, as every member reads it. */
export interface FleetControls {
  /** Increases with every command, so a member tells a new command from one it applied. */
  seq: number;
  paused: boolean;
  stop: boolean;
  /** The fleet's rate, records per second, when set by `control rate N`; else the runbook's. */
  rate?: number;
  /** The fleet's concurrency, when set by `control concurrency N`; else the runbook's. */
  concurrency?: number;
  /** The last overload a member saw: which member, and until when the fleet counts as slowed down. */
  slowdown?: { by: string; until: string };
}

/** A command of `backfill control`, for a fleet as for one run's control.json (run/control.ts). */
export type FleetCommand =
  | { command: 'pause' }
  | { command: 'resume' }
  | { command: 'stop' }
  | { command: 'rate'; value: number }
  | { command: 'concurrency'; value: number };

/** The columns a command sets. */
function assignments(command: FleetCommand): { sql: string; value?: number } {
  switch (command.command) {
    case 'pause':
      return { sql: 'paused = 1' };
    case 'resume':
      return { sql: 'paused = 0' };
    case 'stop':
      return { sql: 'stop = 1' };
    case 'rate':
      return { sql: 'rate = $2', value: command.value };
    case 'concurrency':
      return { sql: 'concurrency = $2', value: command.value };
  }
}

/** Applies a command to the fleet of `db`'s ledger and announces it; returns the new state. */
export async function sendFleetControl(db: FleetDatabase, command: FleetCommand): Promise<FleetControls> {
  const { sql, value } = assignments(command);
  const parameters: unknown[] = value === undefined ? [db.ledger] : [db.ledger, value];
  await db.client.query(`INSERT INTO ${db.schema}.controls (ledger) VALUES ($1) ON CONFLICT DO NOTHING`, [
    db.ledger,
  ]);
  return changeAndNotify(
    db,
    `UPDATE ${db.schema}.controls SET seq = seq + 1, ${sql} WHERE ledger = $1 RETURNING *`,
    parameters,
  );
}

/**
 * A fresh run starts from clean controls, so an old `stop` or pause does not halt it. Only the process
 * that creates a run resets them; a worker joining a run takes them as they are (a paused fleet's new
 * worker starts paused).
 */
export async function resetFleetControls(db: FleetDatabase): Promise<FleetControls> {
  return changeAndNotify(
    db,
    `INSERT INTO ${db.schema}.controls AS c (ledger, seq) VALUES ($1, 1)
     ON CONFLICT (ledger) DO UPDATE SET seq = c.seq + 1, paused = 0, stop = 0, rate = NULL,
       concurrency = NULL, slow_until = NULL, slow_by = NULL
     RETURNING *`,
    [db.ledger],
  );
}

/**
 * Member `by` saw the target overloaded: the others halve their rate as it did. `slow_until` says until
 * when the fleet counts as slowed down (for status), a second from now by the database's clock.
 */
export async function announceSlowdown(db: FleetDatabase, by: string): Promise<void> {
  await changeAndNotify(
    db,
    `UPDATE ${db.schema}.controls SET slow_until = now() + interval '1 second', slow_by = $2
      WHERE ledger = $1 RETURNING *`,
    [db.ledger, by],
  );
}

/** The fleet's controls now; the state of a fleet nobody has steered yet when there is no row. */
export async function readFleetControls(db: FleetDatabase): Promise<FleetControls> {
  const { rows } = await db.client.query(`${SELECT_CONTROLS} FROM ${db.schema}.controls WHERE ledger = $1`, [
    db.ledger,
  ]);
  return rows[0] ? toControls(rows[0] as Record<string, unknown>) : { seq: 0, paused: false, stop: false };
}

const SELECT_CONTROLS = `SELECT seq, paused, stop, rate, concurrency, slow_by,
  to_char(slow_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS slow_until`;

async function changeAndNotify(
  db: FleetDatabase,
  sql: string,
  parameters: unknown[],
): Promise<FleetControls> {
  await db.client.query('BEGIN');
  try {
    const { rows } = await db.client.query(
      `WITH changed AS (${sql}) ${SELECT_CONTROLS} FROM changed`,
      parameters,
    );
    // Delivered at commit, to every session LISTENing on the channel, on any host.
    await db.client.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, controlPayload(db)]);
    await db.client.query('COMMIT');
    return rows[0] ? toControls(rows[0] as Record<string, unknown>) : { seq: 0, paused: false, stop: false };
  } catch (error) {
    await db.client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function toControls(row: Record<string, unknown>): FleetControls {
  return {
    seq: Number(row.seq),
    paused: Number(row.paused) === 1,
    stop: Number(row.stop) === 1,
    ...(row.rate !== null && row.rate !== undefined ? { rate: Number(row.rate) } : {}),
    ...(row.concurrency !== null && row.concurrency !== undefined
      ? { concurrency: Number(row.concurrency) }
      : {}),
    ...(typeof row.slow_by === 'string' && typeof row.slow_until === 'string'
      ? { slowdown: { by: row.slow_by, until: row.slow_until } }
      : {}),
  };
}
