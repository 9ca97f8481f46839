/**
 * `backfill control FILE ACTION [VALUE] [--env NAME]` on the full command line: when the environment
 * keeps its ledger in PostgreSQL, the command goes to the whole fleet of the run — every process on every
 * host working on it — through the ledger's `controls` row and NOTIFY; otherwise to the run on this host
 * through control.json, as the fast path does.
 */
import { commandLiveFleet } from '../../core/fleet/fleetCommand';
import { openFleetDatabase } from '../../core/fleet/fleetDatabase';
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
    const reached = await commandLiveFleet(db, command);
    if (!reached)
      throw new UserError(`no backfill of ${file} is running in ${db.where}: nothing to ${action}`);
    const { run, members } = reached;
    process.stdout.write(
      `Sent "${action}${value !== undefined ? ` ${value}` : ''}" to run ${run} and its ` +
        `${members} live member${members === 1 ? '' : 's'} through ${db.where}; it applies within a second.\n`,
    );
  } finally {
    await db.client.end().catch(() => undefined);
  }
  return ExitCode.ok;
}
