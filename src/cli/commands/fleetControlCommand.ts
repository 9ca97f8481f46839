/**
 * `backfill control FILE ACTION [VALUE] [--env NAME]` on the full command line: when the environment
 * keeps its ledger in PostgreSQL, the command goes to the whole fleet of the run — every process on every
 * host working on it — through the ledger's `controls` row and NOTIFY; otherwise to the run on this host
 * through control.json, as the fast path does.
 */
import type { PostgresLedgerPlace } from '../../core/ledger/postgresLedger';
import { PostgresLedger } from '../../core/ledger/postgresLedger';
import { sendFleetControl } from '../../core/fleet/fleetControls';
import { openFleetDatabase } from '../../core/fleet/fleetDatabase';
import { liveMemberIds } from '../../core/fleet/fleetMembers';
import { UserError } from '../../core/model/types';
import { ExitCode } from '../exitCodes';
import { ledgerPlaceForCommand } from '../ledgerPlace';
import { loadRunbook } from '../loadRunbook';
import { controlCommand, mayShareLedger, parseCommand } from './controlCommand';

export async function fleetControlCommand(
  file: string,
  action: string,
  value: string | undefined,
  options: { env?: string },
): Promise<number> {
  const command = parseCommand(action, value);
  if (!mayShareLedger(file)) return controlCommand(file, action, value);
  const runbook = loadRunbook(file);
  const place = ledgerPlaceForCommand(runbook, options.env);
  if (place.type !== 'postgres') return controlCommand(file, action, value);
  const { run, members } = await liveFleet(file, action, place);
  const db = await openFleetDatabase(place);
  try {
    await sendFleetControl(db, command);
  } finally {
    await db.client.end().catch(() => undefined);
  }
  process.stdout.write(
    `Sent "${action}${value !== undefined ? ` ${value}` : ''}" to run ${run.id} (cell ${run.cell}) and its ` +
      `${members} live member${members === 1 ? '' : 's'} through ${db.where}; it applies within a second.\n`,
  );
  return ExitCode.ok;
}

/** The running run of the ledger and how many members it has alive, or a UserError: nothing to steer. */
async function liveFleet(file: string, action: string, place: PostgresLedgerPlace) {
  const ledger = await PostgresLedger.open(place);
  try {
    const db = await openFleetDatabase(place);
    try {
      for (const run of await ledger.runningRuns()) {
        const members = (await liveMemberIds(db, run.id)).length;
        if (members > 0) return { run, members };
      }
    } finally {
      await db.client.end().catch(() => undefined);
    }
  } finally {
    await ledger.close();
  }
  throw new UserError(`no backfill of ${file} is running in ${ledger.location}: nothing to ${action}`);
}
