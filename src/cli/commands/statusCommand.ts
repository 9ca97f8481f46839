import * as os from 'node:os';
import type { Ledger } from '../../core/ledger/ledger';
import { ledgerPlaceForCommand } from '../ledgerPlace';
import { openLedger } from '../../core/ledger/openLedger';
import { stateDirFor } from '../../core/ledger/statePaths';
import { staleHeartbeat } from '../../core/run/heartbeat';
import {
  isLive,
  readStatus,
  shownRunState,
  type RunStatus,
  type VerificationCounts,
} from '../../core/run/runStatus';
import type { RunRecord } from '../../core/model/runs';
import { describeFailureReason, type FailureReason } from '../../core/run/failureReasons';
import { recordedDoneElsewhere } from '../../core/run/deliveredElsewhere';
import { describeDoneElsewhere } from '../../core/run/statusFigures';
import { parseRunCounts } from '../../core/run/cellResult';
import type { PostgresLedgerPlace } from '../../core/ledger/postgresLedger';
import { readFleetStatus, type FleetStatus } from '../../core/fleet/fleetStatus';
import { ExitCode } from '../exitCodes';
import { describeFleet } from '../output/fleetText';
import { loadRunbook } from '../loadRunbook';
import { duration } from '../output/dryRunText';

interface CellStatus {
  cell: string;
  kind: string;
  state: string;
  run?: string;
  outcome?: string;
  reason?: string;
  startedAt?: string;
  endedAt?: string;
  total?: number;
  succeeded: number;
  failed: number;
  rejected: number;
  /** Records the latest chain skipped because another cell delivered them, by that cell. */
  doneElsewhere?: Record<string, number>;
  /** A verify cell's records by category, over its latest chain. */
  verification?: VerificationCounts;
  /** Every run of the cell, oldest first: first runs, resumes, re-runs and gap re-backfills. */
  history: HistoryEntry[];
  /** The top failure reasons of the latest run (live or finished), each with a count and a sample key. */
  failures?: FailureReason[];
  /** Live figures, present while a run of the cell is in progress. */
  live?: RunStatus;
  /** "no sign of life for 12 s": the live runner stopped writing its status. */
  stale?: string;
  /** The members of the latest run, when the ledger is in PostgreSQL: every worker on every host. */
  fleet?: FleetStatus;
}

/** One run of a cell, as the history lists it. */
interface HistoryEntry {
  run: string;
  chain: string;
  /** Why the run happened: `run`, `resume`, `restart`, `only failed`, `only unverified` or `judged again`. */
  what: string;
  /** For a gap re-backfill: the verification run whose gaps it re-sent. */
  verification?: string;
  startedAt: string;
  endedAt?: string;
  outcome: string;
  /** The run's own counts by status. */
  counts?: Record<string, number>;
}

/** How many runs of a cell the text output lists; `--json` has them all. */
const HISTORY_SHOWN = 8;

/** `backfill status FILE`: per runnable cell, its latest run from the ledger, and live figures if running. */
export async function statusCommand(
  file: string,
  options: { json?: boolean; env?: string },
): Promise<number> {
  const runbook = loadRunbook(file);
  const stateDir = stateDirFor(runbook.file);
  const live = readStatus(stateDir);
  const liveRunning =
    live && isLive(live, os.hostname()) && live.state !== 'finished' && live.state !== 'halted';
  const place = ledgerPlaceForCommand(runbook, options.env);
  const ledger = await openLedger(runbook.file, place);
  const cells: CellStatus[] = [];
  try {
    for (const cell of runbook.cells) {
      if (cell.kind !== 'execute' && cell.kind !== 'verify' && cell.kind !== 'dry-run') continue;
      const latest = await ledger.latestRun(cell.id);
      const runs = await ledger.runs(cell.id);
      const counts: Partial<Record<string, number>> = latest ? await ledger.countByStatus(latest.chain) : {};
      const entry: CellStatus = {
        cell: cell.id,
        kind: cell.kind,
        state: latest
          ? shownRunState(latest, live, os.hostname())
          : cell.kind === 'dry-run'
            ? await dryRunState(ledger, cell.id)
            : 'not run',
        succeeded: counts.succeeded ?? 0,
        failed: counts.failed ?? 0,
        rejected: counts.rejected ?? 0,
        ...(cell.kind === 'verify'
          ? {
              verification: {
                verified: counts.verified ?? 0,
                mismatch: counts.mismatch ?? 0,
                missing: counts.missing ?? 0,
                error: counts.error ?? 0,
              },
            }
          : {}),
        history: historyOf([...runs].reverse()),
      };
      if (latest) {
        Object.assign(entry, {
          run: latest.id,
          outcome: latest.outcome,
          startedAt: latest.startedAt,
          ...(latest.endedAt ? { endedAt: latest.endedAt } : {}),
          ...(latest.reason ? { reason: latest.reason } : {}),
          ...recordedFailures(latest),
        });
        const elsewhere = recordedDoneElsewhere(runs, latest.chain);
        if (elsewhere) entry.doneElsewhere = elsewhere;
        if (place.type === 'postgres') await addFleet(entry, place, latest);
      }
      // A fleet's counts are the ledger's, which every member records into; this host's status file
      // counts only what this host's process sent.
      if (liveRunning && live.cell === cell.id && !entry.fleet) {
        const stale = staleHeartbeat(live);
        Object.assign(entry, {
          state: stale
            ? `${live.state}? ${stale}: the runner (pid ${live.pid}) may be stopped or hung; its figures are frozen`
            : live.state,
          ...(stale ? { stale } : {}),
          live,
          succeeded: live.succeeded,
          failed: live.failed,
          rejected: live.rejected,
          ...(live.verification ? { verification: live.verification } : {}),
          ...(live.failures ? { failures: live.failures } : {}),
          ...(live.doneElsewhere ? { doneElsewhere: live.doneElsewhere } : {}),
        });
        if (live.total !== undefined) entry.total = live.total;
      }
      cells.push(entry);
    }
  } finally {
    await ledger.close();
  }
  if (options.json) {
    process.stdout.write(JSON.stringify({ runbook: runbook.header.name, cells }, null, 2) + '\n');
  } else {
    process.stdout.write(cells.map(describeCell).join(''));
  }
  return ExitCode.ok;
}

/**
 * The fleet of the cell's latest run. A fleet with a live member is running (or paused) wherever it is,
 * even when the run's own record says halted: its first process may have been stopped by its host's
 * halt file while workers elsewhere carry on.
 */
async function addFleet(entry: CellStatus, place: PostgresLedgerPlace, latest: RunRecord): Promise<void> {
  const fleet = await readFleetStatus(place, latest.id);
  if (fleet.members.length === 0) return;
  entry.fleet = fleet;
  if (fleet.alive > 0) entry.state = fleet.controls.paused ? 'paused' : 'running';
}

/** The top failure reasons a finished run recorded with its counts. */
function recordedFailures(run: RunRecord): Pick<CellStatus, 'failures'> {
  const failures = parseRunCounts(run)?.failures;
  return Array.isArray(failures) && failures.length > 0 ? { failures } : {};
}

async function dryRunState(ledger: Ledger, cell: string): Promise<string> {
  const latest = (await ledger.dryRuns(cell))[0];
  return latest
    ? latest.passed
      ? `dry run passed ${latest.startedAt}`
      : `dry run did not pass ${latest.startedAt}`
    : 'not run';
}

/** Names each run by why it happened, from its parameters and the run before it. */
function historyOf(runs: RunRecord[]): HistoryEntry[] {
  return runs.map((run, index) => {
    const params = parseParams(run.params);
    const what = params.rejudge
      ? 'judged again'
      : params.onlyUnverified
        ? 'only unverified'
        : params.onlyFailed
          ? 'only failed'
          : params.restart
            ? 'restart'
            : index > 0 && runs[index - 1]?.chain === run.chain
              ? 'resume'
              : 'run';
    const counts = run.counts ? parseCounts(run.counts) : undefined;
    return {
      run: run.id,
      chain: run.chain,
      what,
      ...(typeof params.verification === 'string' ? { verification: params.verification } : {}),
      startedAt: run.startedAt,
      ...(run.endedAt ? { endedAt: run.endedAt } : {}),
      outcome: run.outcome,
      ...(counts ? { counts } : {}),
    };
  });
}

function parseParams(params: string): Record<string, unknown> {
  try {
    return JSON.parse(params) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The statuses a run recorded (zero counts left out); done, total and skipped are not statuses. */
function parseCounts(counts: string): Record<string, number> {
  const parsed = parseParams(counts);
  const statuses = Object.entries(parsed).filter(
    ([name, value]) => typeof value === 'number' && value > 0 && !['done', 'total', 'skipped'].includes(name),
  );
  return Object.fromEntries(statuses) as Record<string, number>;
}

function describeCell(c: CellStatus): string {
  const lines = [`${c.cell} (${c.kind}): ${c.state}${c.reason ? ` — ${c.reason}` : ''}`];
  if (c.run) lines.push(`  run ${c.run} started ${c.startedAt}${c.endedAt ? `, ended ${c.endedAt}` : ''}`);
  const of = c.total !== undefined ? ` of ${c.total}` : '';
  const v = c.verification;
  if (v && (c.run || c.live)) {
    const checked = v.verified + v.mismatch + v.missing + v.error;
    lines.push(
      `  ${checked}${of} checked: ${v.verified} verified, ${v.mismatch} mismatch, ${v.missing} missing, ` +
        `${v.error} could not be checked, ${c.rejected} rejected`,
    );
  } else if (c.run || c.live) {
    lines.push(
      `  ${c.succeeded + c.failed + c.rejected}${of} done: ${c.succeeded} succeeded, ${c.failed} failed, ${c.rejected} rejected`,
    );
  }
  for (const skipped of describeDoneElsewhere(c.doneElsewhere ?? {})) lines.push(`  ${skipped}`);
  for (const failure of c.failures ?? []) lines.push(`  failures: ${describeFailureReason(failure)}`);
  if (c.history.length > 1) lines.push(...describeHistory(c.history));
  if (c.fleet) lines.push(...describeFleet(c.fleet));
  if (c.live) {
    const s = c.live;
    lines.push(
      `  rate ${s.rate.now}/s now, ${s.rate.average}/s average (configured ${s.rate.configured}/s) · concurrency ${s.concurrency} · ${s.inFlight} in flight`,
      `  latency p50 ${s.latencyMs.p50} ms, p95 ${s.latencyMs.p95} ms${s.etaSeconds !== undefined ? ` · ETA ${duration(s.etaSeconds)}` : ''}`,
    );
    const errors = Object.entries(s.errorsByKind);
    if (errors.length > 0) lines.push(`  errors: ${errors.map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}

function describeHistory(history: HistoryEntry[]): string[] {
  const shown = history.slice(-HISTORY_SHOWN);
  const earlier = history.length - shown.length;
  return [
    `  history (${history.length} runs${earlier > 0 ? `, the last ${shown.length} shown` : ''}):`,
    ...shown.map((entry) => {
      const counts = Object.entries(entry.counts ?? {})
        .map(([status, n]) => `${n} ${status}`)
        .join(', ');
      const gaps = entry.verification ? ` (gaps of verification ${entry.verification})` : '';
      return `    ${entry.startedAt} ${entry.run} ${entry.what}${gaps}: ${entry.outcome}${counts ? `, ${counts}` : ''}`;
    }),
  ];
}
