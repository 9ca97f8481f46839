/**
 * Live control of a run whose ledger is in PostgreSQL: the run joins the fleet (fleet/fleetMember.ts)
 * and applies the fleet's controls to its dispatcher, with this member's share of the fleet's rate and
 * concurrency — re-computed as members join, leave or are lost — and follows any member's slowdown. The
 * halt file still stops only the process on its own host (liveControl.ts). This file cannot depend on
 * the vscode API.
 */
import type { PostgresLedgerPlace } from '../ledger/postgresLedger';
import { FleetMember, type FleetView } from '../fleet/fleetMember';
import type { MemberState } from '../fleet/fleetMembers';
import { concurrencyShare, rateShare } from '../fleet/fleetShare';
import type { ControlState } from './control';
import { rangeProblem } from '../model/numericRanges';
import { applyControl, type Controllable } from './liveControl';

/** What the fleet steers: the dispatcher, which also slows down when another member saw an overload. */
export interface FleetControllable extends Controllable {
  slowDown(): void;
  /** A new share of an unchanged fleet rate: applied without holding the old share's permits against it. */
  setShare(rate: number): void;
}

export interface LiveFleetOptions {
  place: PostgresLedgerPlace;
  /** The id of the run the fleet works on. */
  run: string;
  /** This process created the run: the fleet's controls start clean. A joining worker passes false. */
  fresh: boolean;
  /** A worker of a shared run: it takes no share until it has its first unit to send (chunkWork.ts). */
  waiting?: boolean;
  dispatcher: FleetControllable;
  /** The runbook's rate and concurrency: the fleet's, until `backfill control` changes them. */
  throttle: { rate: number; concurrency: number };
  figures(): { rate: number; sent: number };
  /** Called after a change was applied to a run that is not stopping (the run writes its status). */
  onApplied(): void;
}

/** Joins the fleet and applies its controls and shares now and whenever they change; `leave` ends it. */
export async function joinLiveFleet(options: LiveFleetOptions): Promise<FleetMember> {
  const { dispatcher, throttle } = options;
  /** The fleet's rate at the last view: a share that changes while it stays is a change of members. */
  let fleetRate: number | undefined;
  return FleetMember.join({
    place: options.place,
    run: options.run,
    fresh: options.fresh,
    waiting: options.waiting ?? false,
    figures: options.figures,
    onSlowdown: () => dispatcher.slowDown(),
    onView: (view: FleetView) => {
      const { controls, members, me } = view;
      const total = controls.rate ?? throttle.rate;
      const rate = rateShare(total, members, me);
      // A rate lowered by `backfill control` holds from the next permit on, the last second included
      // (applyControl); a share lowered because a member joined must not: the joiner's permits replace it.
      if (total === fleetRate && !rangeProblem('rate', rate)) dispatcher.setShare(rate);
      fleetRate = total;
      applyControl(
        {
          seq: controls.seq,
          paused: controls.paused,
          stop: controls.stop,
          rate,
          concurrency: concurrencyShare(controls.concurrency ?? throttle.concurrency, members, me),
        },
        dispatcher,
      );
      if (!dispatcher.stopping) options.onApplied();
    },
  });
}

/** How a member ends: done when it ran out of work, stopped when told to, halted on a failure. */
export function memberEnd(fed: boolean, stopping: boolean): Exclude<MemberState, 'working'> {
  if (!fed) return 'halted';
  return stopping ? 'stopped' : 'done';
}

/**
 * Forwards what is written to this process's control.json (the editor's pause, throttle and stop
 * buttons) to the whole fleet: only what changed since the previous state, so a throttle change sent
 * here does not undo a pause sent to the fleet from another host.
 */
export function forwardLocalControl(member: Pick<FleetMember, 'send'>): (control: ControlState) => void {
  let previous: ControlState = { seq: 0, paused: false, stop: false };
  return (control) => {
    if (control.paused !== previous.paused) member.send({ command: control.paused ? 'pause' : 'resume' });
    if (control.rate !== undefined && control.rate !== previous.rate)
      member.send({ command: 'rate', value: control.rate });
    if (control.concurrency !== undefined && control.concurrency !== previous.concurrency)
      member.send({ command: 'concurrency', value: control.concurrency });
    if (control.stop && !previous.stop) member.send({ command: 'stop' });
    previous = control;
  };
}
