/**
 * `backfill control FILE ACTION [VALUE] [--env NAME]` on the full command line: when the environment
 * keeps its ledger in PostgreSQL, the command goes to the whole fleet of the run — every process on every
 * host working on it — through the ledger's `controls` row and NOTIFY; otherwise to the run on this host
 * through control.json, as the fast path does.
 */
import { sendFleetControl } from '../../core/fleet/fleetControls';
import { openFleetDatabase } from '../../core/fleet/fleetDatabase';
import { runsWithLiveMembers } from '../../core/fleet/fleetMembers';
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
  const db = await openFleetDatabase(place);
  try {
    // The runs with live members: a run's own record may say halted (its first process stopped by its
    // host's halt file) while workers elsewhere carry on.
    const [live] = await runsWithLiveMembers(db);
    if (!live) throw new UserError(`no backfill of ${file} is running in ${db.where}: nothing to ${action}`);
    await sendFleetControl(db, command);
    const { run, members } = live;
    process.stdout.write(
      `Sent "${action}${value !== undefined ? ` ${value}` : ''}" to run ${run} and its ` +
        `${members} live member${members === 1 ? '' : 's'} through ${db.where}; it applies within a second.\n`,
    );
  } finally {
    await db.client.end().catch(() => undefined);
  }
  return ExitCode.ok;
}
