/**
 * This process as a member of a fleet: any process working on a run whose ledger is in PostgreSQL (the
 * `backfill run` that created the run, and every worker that joined it). It registers in `workers`,
 * beats about once a second, follows the fleet's controls — told at once by NOTIFY, and polling them
 * every {@link CONTROL_POLL_MS} in case a notification is lost (a dropped connection, a proxy that does not
 * pass them) — and says so whenever the controls or the live members change, so the run can take its
 * share of the fleet's rate and concurrency. The database going away does not stop the member: it keeps
 * what it last applied and reconnects with backoff. This folder cannot depend on the vscode API.
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import type { Notification } from 'pg';
import type { PostgresLedgerPlace } from '../ledger/postgresLedger';
import {
  announceSlowdown,
  readFleetControls,
  resetFleetControls,
  sendFleetControl,
  type FleetCommand,
  type FleetControls,
} from './fleetControls';
import { CONTROL_CHANNEL, controlPayload, openFleetDatabase, type FleetDatabase } from './fleetDatabase';
import {
  beat,
  HEARTBEAT_MS,
  liveMemberIds,
  markEnded,
  markWaiting,
  registerMember,
  type MemberState,
} from './fleetMembers';

/** Polling interval of the controls: a command applies within a second even without NOTIFY. */
export const CONTROL_POLL_MS = 250;

/** Reconnect backoff: from one poll to ten seconds, doubling. */
const MAX_RECONNECT_MS = 10_000;

/** What a member sees of its fleet. */
export interface FleetView {
  controls: FleetControls;
  /** Ids of the live members, this one included, sorted. */
  members: readonly string[];
  /** This member's id. */
  me: string;
}

export interface FleetMemberOptions {
  place: PostgresLedgerPlace;
  /** The id of the run the fleet works on. */
  run: string;
  /**
   * This process creates the run (`backfill run`): the fleet's controls start clean, so an old stop does
   * not halt it. A worker joining a live run passes false and takes the controls as they are.
   */
  fresh: boolean;
  /**
   * This member has no chunk yet (a worker of a shared run, still starting): it takes no share of the
   * fleet's rate until `setWaiting(false)`, so the others do not slow down for a member not yet sending.
   */
  waiting?: boolean;
  /** This member's observed rate (records per second) and records finished, for its heartbeat. */
  figures(): { rate: number; sent: number };
  /** The controls or the live members changed (and once on joining): apply them. */
  onView(view: FleetView): void;
  /** Another member saw the target overloaded (429, 503): slow down as it did. */
  onSlowdown(): void;
}

export class FleetMember {
  /** Unique across hosts and restarts (a pid is not: every container's first process is pid 1). */
  readonly id = randomUUID();
  private readonly host = os.hostname();
  private readonly startedAt = new Date().toISOString();
  private db: FleetDatabase | undefined;
  private chunk: number | undefined;
  private seq = -1;
  private members: readonly string[] = [];
  private slowdown: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  /** The tick under way: ticks never overlap, and leaving waits for the last one. */
  private working: Promise<void> = Promise.resolve();
  private reconnectAt = 0;
  private reconnectDelay = CONTROL_POLL_MS;
  private left = false;
  private waiting = false;

  private constructor(private readonly options: FleetMemberOptions) {
    this.waiting = options.waiting ?? false;
  }

  /**
   * Joins the fleet: registers, applies the controls and the shares as they are, then follows them until
   * `leave`. Throws (a UserError saying why) when the database cannot be reached at all.
   */
  static async join(options: FleetMemberOptions): Promise<FleetMember> {
    const member = new FleetMember(options);
    await member.connect();
    if (options.fresh) await resetFleetControls(member.db!);
    await member.poll(true);
    member.timer = setInterval(() => member.tick(), CONTROL_POLL_MS);
    member.timer.unref();
    return member;
  }

  /** The seam for chunk claiming: the chunk this member works on now (undefined between chunks). */
  setChunk(chunk: number | undefined): void {
    this.chunk = chunk;
  }

  /**
   * This member has nothing to claim until another member's lease runs out (true), or works again
   * (false): the others share the rate without it meanwhile.
   */
  setWaiting(waiting: boolean): void {
    if (waiting === this.waiting) return;
    this.waiting = waiting;
    this.serially(async (db) => {
      await markWaiting(db, this.options.run, this.id, waiting);
    });
  }

  /** This member saw the target overloaded: every other member halves its rate too. */
  reportOverload(): void {
    this.serially(async (db) => {
      await announceSlowdown(db, this.id);
    });
  }

  /**
   * Sends a command to the whole fleet, this member included, as `backfill control` does: how a command
   * given to this process alone (the editor's buttons write control.json) reaches every member.
   */
  send(command: FleetCommand): void {
    this.serially(async (db) => {
      await sendFleetControl(db, command);
    });
  }

  /** Runs `work` on the connection after the tick under way: a transaction never interleaves another. */
  private serially(work: (db: FleetDatabase) => Promise<void>): void {
    this.working = this.working.then(async () => {
      const db = this.db;
      if (!db || this.left) return;
      await work(db).catch(() => this.drop(db));
    });
  }

  /** Stops following the fleet and marks this member ended, so it no longer takes a share. */
  async leave(state: Exclude<MemberState, 'working'>): Promise<void> {
    if (this.left) return;
    this.left = true;
    clearInterval(this.timer);
    await this.working;
    const db = this.db;
    if (!db) return;
    try {
      await markEnded(db, this.options.run, this.id, state, this.figures());
    } catch {
      // The database is gone: the row turns lost after LOST_AFTER_MS, which takes this member's share back.
    }
    this.db = undefined;
    await db.client.end().catch(() => undefined);
  }

  private tick(): void {
    this.ticks += 1;
    this.working = this.working.then(() => this.poll(this.ticks % (HEARTBEAT_MS / CONTROL_POLL_MS) === 0));
  }

  /** Reads the controls (and, on a heartbeat, beats and reads the live members); tells what changed. */
  private async poll(heartbeat: boolean): Promise<void> {
    if (this.left) return;
    const db = this.db ?? (await this.reconnect());
    if (!db) return;
    try {
      let changed = false;
      if (heartbeat) {
        await beat(db, this.options.run, this.id, this.figures());
        changed = this.membersChanged(await liveMemberIds(db, this.options.run));
      }
      const controls = await readFleetControls(db);
      const first = this.seq === -1;
      changed ||= controls.seq !== this.seq;
      this.seq = controls.seq;
      this.followSlowdown(controls, first);
      if (changed && !this.left) this.options.onView({ controls, members: this.members, me: this.id });
    } catch {
      this.drop(db);
    }
  }

  /** Takes the live members' ids; true when they changed. */
  private membersChanged(ids: string[]): boolean {
    const members = ids.includes(this.id) ? ids : [...ids, this.id].sort();
    const changed = members.join() !== this.members.join();
    this.members = members;
    return changed;
  }

  /**
   * A slowdown another member announced since the last poll is followed here once; one announced before
   * this member joined is history (its rate starts at its share, as the others' recover).
   */
  private followSlowdown(controls: FleetControls, first: boolean): void {
    const announced = controls.slowdown && `${controls.slowdown.by}@${controls.slowdown.until}`;
    if (announced === this.slowdown) return;
    this.slowdown = announced;
    if (announced && controls.slowdown!.by !== this.id && !first) this.options.onSlowdown();
  }

  private figures() {
    return { ...this.options.figures(), chunk: this.chunk };
  }

  private async connect(): Promise<FleetDatabase> {
    const db = await openFleetDatabase(this.options.place);
    try {
      const payload = controlPayload(db);
      db.client.on('notification', (message: Notification) => {
        // A command, or a member joined or ended: the controls and the members are read again at once.
        if (message.channel === CONTROL_CHANNEL && message.payload === payload && this.db === db) {
          this.working = this.working.then(() => this.poll(true));
        }
      });
      await db.client.query(`LISTEN ${CONTROL_CHANNEL}`);
      await registerMember(db, {
        run: this.options.run,
        id: this.id,
        host: this.host,
        pid: process.pid,
        startedAt: this.startedAt,
        waiting: this.waiting,
      });
    } catch (error) {
      await db.client.end().catch(() => undefined);
      throw error;
    }
    this.db = db;
    this.reconnectDelay = CONTROL_POLL_MS;
    return db;
  }

  private async reconnect(): Promise<FleetDatabase | undefined> {
    if (Date.now() < this.reconnectAt) return undefined;
    try {
      return await this.connect();
    } catch {
      this.reconnectAt = Date.now() + this.reconnectDelay;
      this.reconnectDelay = Math.min(MAX_RECONNECT_MS, this.reconnectDelay * 2);
      return undefined;
    }
  }

  /** The connection failed: forget it; the next tick reconnects. */
  private drop(db: FleetDatabase): void {
    if (this.db !== db) return;
    this.db = undefined;
    void db.client.end().catch(() => undefined);
  }
}
