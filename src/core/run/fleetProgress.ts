/**
 * The live progress of a run whose ledger is in PostgreSQL, as a viewer on any host sees it (the notebook
 * on an engineer's laptop): the run's chain counted in the ledger, which every member records into, and
 * its fleet — members, heartbeats, controls — shaped as the status a local run writes to status.json, so
 * one view shows both. Pure: fleetWatch.ts reads what it needs. This file cannot depend on the vscode API.
 */
import type { FleetStatus } from '../fleet/fleetStatus';
import type { ChainTally } from '../ledger/ledger';
import type { ErrorKind, RunRecord } from '../model/runs';
import type { RunState, RunStatus } from './runStatus';
import { sumOf, verificationCounts, zeroCounts } from './statusCounts';

/** A live fleet's run: its status, its members, and whether it goes on anywhere. */
export interface FleetProgress {
  status: RunStatus;
  fleet: FleetStatus;
  /** A member is alive: the run goes on somewhere, whatever the run's own record says. */
  live: boolean;
  /** Nothing is alive and the run's record says how it ended: the view can end. */
  settled: boolean;
}

export interface FleetProgressInput {
  run: RunRecord;
  /** The chain's latest outcomes, counted by status, error kind and run (Ledger.tallyChain). */
  tallies: readonly ChainTally[];
  fleet: FleetStatus;
  /** Records the chain processes in all, when known (the passing dry run's selection). */
  total?: number;
  now?: Date;
}

/** The status of a fleet's run, from the ledger's counts and the members' heartbeats. */
export function fleetProgress(input: FleetProgressInput): FleetProgress {
  const { run, tallies, fleet, total } = input;
  const now = input.now ?? new Date();
  const counts = zeroCounts();
  const errorsByKind: Partial<Record<ErrorKind, number>> = {};
  for (const tally of tallies) {
    counts[tally.status] += tally.count;
    if (tally.errorKind && tally.status !== 'succeeded' && tally.status !== 'verified') {
      errorsByKind[tally.errorKind] = (errorsByKind[tally.errorKind] ?? 0) + tally.count;
    }
  }
  const done = sumOf(counts);
  const working = fleet.members.filter((member) => member.health === 'alive');
  const live = working.length > 0;
  const throttle = throttleOf(run);
  const configured = fleet.controls.rate ?? throttle.rate;
  const rateNow = round(working.reduce((sum, member) => sum + member.rate, 0));
  const sent = fleet.members.reduce((sum, member) => sum + member.sent, 0);
  const elapsed = (now.getTime() - Date.parse(run.startedAt)) / 1000;
  const remaining = total !== undefined ? Math.max(0, total - done) : undefined;
  const state = stateOf(run, fleet, live);
  const ended = run.outcome !== 'running';
  return {
    status: {
      run: run.id,
      chain: run.chain,
      cell: run.cell,
      mode: run.mode,
      environment: run.environment,
      pid: run.pid,
      host: run.host,
      state,
      startedAt: run.startedAt,
      updatedAt: now.toISOString(),
      ...(total !== undefined ? { total } : {}),
      done,
      succeeded: counts.succeeded,
      failed: counts.failed,
      rejected: counts.rejected,
      ...(run.mode === 'verify' ? { verification: verificationCounts(counts) } : {}),
      // Records an earlier run of the chain finished are in the counts; what each member skipped is its own.
      skipped: 0,
      inFlight: 0,
      rate: {
        now: rateNow,
        average: elapsed > 0 ? round(sent / elapsed) : 0,
        configured,
        effective: configured,
      },
      concurrency: fleet.controls.concurrency ?? throttle.concurrency,
      // Each member keeps its own latency histogram (its metrics port): quantiles do not add up across a
      // fleet, so none is shown rather than a wrong one (JSON turns NaN into null, shown as –).
      latencyMs: { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN },
      errorsByKind,
      ...(state === 'running' && remaining !== undefined && rateNow > 0
        ? { etaSeconds: Math.round(remaining / rateNow) }
        : {}),
      ...(!live && ended && run.reason ? { reason: run.reason } : {}),
      ...(!live && !ended ? { reason: noLiveMember(fleet) } : {}),
      ...(!live && ended ? { outcome: run.outcome } : {}),
    },
    fleet,
    live,
    settled: !live && ended,
  };
}

/**
 * A fleet with a live member runs (or is paused, or stopping) wherever it is, even when its run's record
 * says halted; with none, the record says how it ended.
 */
function stateOf(run: RunRecord, fleet: FleetStatus, live: boolean): RunState {
  if (live) return fleet.controls.stop ? 'stopping' : fleet.controls.paused ? 'paused' : 'running';
  if (run.outcome === 'succeeded' || run.outcome === 'below-threshold') return 'finished';
  return 'halted';
}

function noLiveMember(fleet: FleetStatus): string {
  return fleet.lost > 0
    ? `no worker is alive (${fleet.lost} lost: killed, frozen or cut off from the database); start one to carry on`
    : 'no worker is working on it any more';
}

/** The runbook's rate and concurrency the run started with (its recorded parameters). */
function throttleOf(run: RunRecord): { rate: number; concurrency: number } {
  try {
    const params = JSON.parse(run.params) as { throttle?: { rate?: unknown; concurrency?: unknown } };
    return {
      rate: Number(params.throttle?.rate) || 0,
      concurrency: Number(params.throttle?.concurrency) || 0,
    };
  } catch {
    return { rate: 0, concurrency: 0 };
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
