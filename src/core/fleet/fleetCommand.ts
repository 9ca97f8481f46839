/**
 * A command for the fleet of a ledger's live run, however it is given (`backfill control --env`, the
 * editor's stop, pause, resume and rate): the run with live members, if there is one, gets it through
 * the `controls` row and NOTIFY. This folder cannot depend on the vscode API.
 */
import { sendFleetControl, type FleetCommand } from './fleetControls';
import type { FleetDatabase } from './fleetDatabase';
import { runsWithLiveMembers } from './fleetMembers';

/** Who a command reached: the run with live members and how many it has. */
export interface FleetCommandReach {
  run: string;
  members: number;
}

/**
 * Sends `command` to the fleet of the ledger's live run; undefined (nothing sent) when no run of the
 * ledger has a live member. A run's own record may say halted (its first process stopped by its host's
 * halt file) while workers elsewhere carry on: the members decide, not the record.
 */
export async function commandLiveFleet(
  db: FleetDatabase,
  command: FleetCommand,
): Promise<FleetCommandReach | undefined> {
  const [live] = await runsWithLiveMembers(db);
  if (!live) return undefined;
  await sendFleetControl(db, command);
  return live;
}
