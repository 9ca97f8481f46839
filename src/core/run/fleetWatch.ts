/**
 * Watching and steering a fleet from outside it (the notebook): one connection to the ledger and one to
 * the fleet's tables, kept open while someone watches, so a read once a second costs two queries and
 * no connection. Commands go to the whole fleet through the `controls` row, as `backfill control --env`
 * sends them. This file cannot depend on the vscode API.
 */
import { commandLiveFleet, type FleetCommandReach } from '../fleet/fleetCommand';
import type { FleetCommand } from '../fleet/fleetControls';
import { openFleetDatabase, type FleetDatabase } from '../fleet/fleetDatabase';
import { runsWithLiveMembers } from '../fleet/fleetMembers';
import { fleetStatusOf } from '../fleet/fleetStatus';
import type { Ledger } from '../ledger/ledger';
import type { PostgresLedgerPlace } from '../ledger/postgresLedger';
import { PostgresLedger } from '../ledger/postgresLedger';
import type { RunRecord } from '../model/runs';
import { fleetProgress, type FleetProgress } from './fleetProgress';

export class FleetWatch {
  /** Totals by run id: a run's total does not change while it runs, so it is read once. */
  private readonly totals = new Map<string, number | undefined>();

  private constructor(
    private readonly ledger: Ledger,
    private readonly db: FleetDatabase,
  ) {}

  /** Connects to the ledger at `place`; throws a UserError (the URL left out) when it cannot. */
  static async open(place: PostgresLedgerPlace): Promise<FleetWatch> {
    const ledger = await PostgresLedger.open(place);
    try {
      return new FleetWatch(ledger, await openFleetDatabase(place));
    } catch (error) {
      await ledger.close();
      throw error;
    }
  }

  /** Where the ledger is, for messages: never the URL. */
  get where(): string {
    return this.db.where;
  }

  /** The ledger's run that has live members, if any: the one a command steers and the notebook shows. */
  async liveRun(): Promise<RunRecord | undefined> {
    const [live] = await runsWithLiveMembers(this.db);
    if (!live) return undefined;
    return (await this.ledger.runs()).find((run) => run.id === live.run);
  }

  /** The progress of run `id` now: the ledger's counts of its chain and its fleet. */
  async progress(id: string): Promise<FleetProgress | undefined> {
    const run = (await this.ledger.runs()).find((candidate) => candidate.id === id);
    if (!run) return undefined;
    const tallies = await this.ledger.tallyChain(run.chain);
    const fleet = await fleetStatusOf(this.db, run.id);
    const total = await this.totalOf(run);
    return fleetProgress({ run, tallies, fleet, ...(total !== undefined ? { total } : {}) });
  }

  /** Sends a command to the live run's whole fleet; undefined when no run has a live member. */
  send(command: FleetCommand): Promise<FleetCommandReach | undefined> {
    return commandLiveFleet(this.db, command);
  }

  async close(): Promise<void> {
    await Promise.all([this.ledger.close(), this.db.client.end()].map((p) => p.catch(() => undefined)));
  }

  /**
   * Records the run processes in all: the selection of the passing dry run the production gate matched
   * (same fingerprint). A re-send of failures or gaps selects differently: unknown, the bar then shows
   * what is done without a goal.
   */
  private async totalOf(run: RunRecord): Promise<number | undefined> {
    if (this.totals.has(run.id)) return this.totals.get(run.id);
    let total: number | undefined;
    const params = parse(run.params);
    if (!params.onlyFailed && !params.onlyUnverified) {
      const dryRun = await this.ledger.passingDryRun(run.fingerprint);
      const selected =
        dryRun && (parse(dryRun.report).counts as { selected?: unknown } | undefined)?.selected;
      if (typeof selected === 'number') total = selected;
    }
    this.totals.set(run.id, total);
    return total;
  }
}

function parse(json: string): Record<string, unknown> {
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return {};
  }
}
