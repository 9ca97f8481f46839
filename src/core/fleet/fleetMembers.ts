/**
 * The fleet's members: one `workers` row per process working on a run whose ledger is in PostgreSQL,
 * registered when it starts, beating about once a second, marked done or stopped when it ends. A member
 * whose heartbeat is older than {@link LOST_AFTER_MS} by the database's clock is lost (kill -9, a host
 * gone, a process frozen). This folder cannot depend on the vscode API.
 */
import { CONTROL_CHANNEL, controlPayload, type FleetDatabase } from './fleetDatabase';

/** A member beats this often. */
export const HEARTBEAT_MS = 1000;

/**
 * Silence after which a member counts as lost: five missed beats, as for a run's status file
 * (run/heartbeat.ts). Long enough that a busy host's late beat is not a death, short enough that the
 * others take over a killed member's share of the rate within a few seconds.
 */
export const LOST_AFTER_MS = 5000;

/** How a member ended; `working` while it runs. */
export type MemberState = 'working' | 'done' | 'stopped' | 'halted';

/** A member as `backfill status` shows it. */
export interface FleetMemberRow {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  /** The chunk it holds, when it holds one. */
  chunk?: number;
  /** Its observed rate, records per second, at its last beat. */
  rate: number;
  /** Records it finished (sent and recorded). */
  sent: number;
  state: MemberState;
  /** Working, but with nothing to claim until another member's lease runs out: it takes no share. */
  waiting?: boolean;
  /** Its last heartbeat (ISO, the database's clock). */
  heartbeatAt: string;
  /** Milliseconds since its last heartbeat, by the database's clock. */
  silentMs: number;
  /** Working and beating; `lost` when working but silent for longer than LOST_AFTER_MS. */
  health: 'alive' | 'lost' | 'ended';
}

/** What a member says of itself at each beat. */
export interface MemberFigures {
  rate: number;
  sent: number;
  chunk: number | undefined;
}

/** Registers a member of run `run` (again, after a reconnect: the row is kept). */
export async function registerMember(
  db: FleetDatabase,
  member: { run: string; id: string; host: string; pid: number; startedAt: string; waiting: boolean },
): Promise<void> {
  await db.client.query(
    `INSERT INTO ${db.schema}.workers AS w (ledger, run, id, host, pid, started_at, heartbeat_at, state, waiting)
     VALUES ($1, $2, $3, $4, $5, $6, now(), 'working', $7)
     ON CONFLICT (ledger, run, id) DO UPDATE SET heartbeat_at = now(), state = 'working', waiting = $7`,
    [db.ledger, member.run, member.id, member.host, member.pid, member.startedAt, member.waiting],
  );
  await announceMembersChanged(db);
}

/**
 * Tells every member at once that a member joined or ended, so the others re-take their shares now
 * rather than at their next heartbeat: a joiner starts at its share while the others, not yet knowing of
 * it, would still send at theirs — the fleet's rate overshot by a share per join for up to a second.
 */
async function announceMembersChanged(db: FleetDatabase): Promise<void> {
  await db.client.query('SELECT pg_notify($1, $2)', [CONTROL_CHANNEL, controlPayload(db)]);
}

/** One heartbeat: the member is alive, with these figures. */
export async function beat(
  db: FleetDatabase,
  run: string,
  id: string,
  figures: MemberFigures,
): Promise<void> {
  await db.client.query(
    `UPDATE ${db.schema}.workers SET heartbeat_at = now(), rate = $4, sent = $5, chunk = $6
      WHERE ledger = $1 AND run = $2 AND id = $3`,
    [db.ledger, run, id, figures.rate, figures.sent, figures.chunk ?? null],
  );
}

/** The member ended: it no longer counts as live, and holds no chunk. */
export async function markEnded(
  db: FleetDatabase,
  run: string,
  id: string,
  state: Exclude<MemberState, 'working'>,
  figures: MemberFigures,
): Promise<void> {
  await db.client.query(
    `UPDATE ${db.schema}.workers SET heartbeat_at = now(), state = $4, rate = 0, sent = $5, chunk = NULL
      WHERE ledger = $1 AND run = $2 AND id = $3`,
    [db.ledger, run, id, state, figures.sent],
  );
  await announceMembersChanged(db);
}

/**
 * Whether a member waits for another member's lease with nothing to claim: the others then share the
 * rate without it, so a run's last chunks are not sent at a fraction of the rate while idle members wait.
 */
export async function markWaiting(db: FleetDatabase, run: string, id: string, waiting: boolean) {
  await db.client.query(
    `UPDATE ${db.schema}.workers SET waiting = $4 WHERE ledger = $1 AND run = $2 AND id = $3`,
    [db.ledger, run, id, waiting],
  );
  await announceMembersChanged(db);
}

/** The ids of the members sharing a run's rate: working, not waiting, and beating within LOST_AFTER_MS. */
export async function liveMemberIds(db: FleetDatabase, run: string): Promise<string[]> {
  const { rows } = await db.client.query(
    `SELECT id FROM ${db.schema}.workers
      WHERE ledger = $1 AND run = $2 AND state = 'working' AND NOT waiting
        AND heartbeat_at > now() - make_interval(secs => $3)
      ORDER BY id`,
    [db.ledger, run, LOST_AFTER_MS / 1000],
  );
  return rows.map((row: Record<string, unknown>) => String(row.id));
}

/**
 * The runs of the ledger with live members, and how many: what `backfill control` steers. A run's own
 * record may already say halted (the process that created it was stopped by its host's halt file) while
 * workers elsewhere carry on.
 */
export async function runsWithLiveMembers(db: FleetDatabase): Promise<{ run: string; members: number }[]> {
  const { rows } = await db.client.query(
    `SELECT run, count(*)::integer AS members FROM ${db.schema}.workers
      WHERE ledger = $1 AND state = 'working' AND heartbeat_at > now() - make_interval(secs => $2)
      GROUP BY run ORDER BY min(started_at)`,
    [db.ledger, LOST_AFTER_MS / 1000],
  );
  return rows.map((row: Record<string, unknown>) => ({ run: String(row.run), members: Number(row.members) }));
}

/** Every member a run has had, oldest first, each alive, lost or ended. */
export async function fleetMembers(db: FleetDatabase, run: string): Promise<FleetMemberRow[]> {
  const { rows } = await db.client.query(
    `SELECT id, host, pid, started_at, chunk, rate, sent, state, waiting,
            to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS heartbeat_at,
            (EXTRACT(EPOCH FROM now() - heartbeat_at) * 1000)::float8 AS silent_ms
       FROM ${db.schema}.workers WHERE ledger = $1 AND run = $2
      ORDER BY started_at, id`,
    [db.ledger, run],
  );
  return rows.map((row: Record<string, unknown>): FleetMemberRow => {
    const state = String(row.state) as MemberState;
    const silentMs = Math.max(0, Math.round(Number(row.silent_ms)));
    return {
      id: String(row.id),
      host: String(row.host),
      pid: Number(row.pid),
      startedAt: String(row.started_at),
      ...(row.chunk !== null && row.chunk !== undefined ? { chunk: Number(row.chunk) } : {}),
      rate: Number(row.rate),
      sent: Number(row.sent),
      state,
      ...(row.waiting === true ? { waiting: true } : {}),
      heartbeatAt: String(row.heartbeat_at),
      silentMs,
      health: state !== 'working' ? 'ended' : silentMs > LOST_AFTER_MS ? 'lost' : 'alive',
    };
  });
}
