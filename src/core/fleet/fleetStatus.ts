/**
 * One status for a whole fleet: every member of a run with its host, pid, chunk, rate and last heartbeat,
 * alive or lost, and the fleet's controls. `backfill status` adds the totals from the ledger, which every
 * member records into. This folder cannot depend on the vscode API.
 */
import type { PostgresLedgerPlace } from '../ledger/postgresLedger';
import { readFleetControls, type FleetControls } from './fleetControls';
import { openFleetDatabase, type FleetDatabase } from './fleetDatabase';
import { fleetMembers, type FleetMemberRow } from './fleetMembers';

export interface FleetStatus {
  members: FleetMemberRow[];
  /** Members working and beating. */
  alive: number;
  /** Members working but silent for longer than LOST_AFTER_MS: killed, frozen, or cut off. */
  lost: number;
  controls: FleetControls;
}

/** The fleet of run `run` of the ledger at `place`. */
export async function readFleetStatus(place: PostgresLedgerPlace, run: string): Promise<FleetStatus> {
  const db = await openFleetDatabase(place);
  try {
    return await fleetStatusOf(db, run);
  } finally {
    await db.client.end().catch(() => undefined);
  }
}

/** The fleet of run `run`, on a connection the caller keeps (a viewer reading it once a second). */
export async function fleetStatusOf(db: FleetDatabase, run: string): Promise<FleetStatus> {
  const members = await fleetMembers(db, run);
  return {
    members,
    alive: members.filter((member) => member.health === 'alive').length,
    lost: members.filter((member) => member.health === 'lost').length,
    controls: await readFleetControls(db),
  };
}
