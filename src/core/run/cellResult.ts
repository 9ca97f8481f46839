/**
 * The summary of one run as embedded in the runbook (a {@link Result}): built from a dry-run report, or
 * from a run as the ledger recorded it. Counts describe the records of the whole run chain after the run
 * (what is true of the records now, resumes included); the rate describes the run itself.
 */
import type { DryRunReport } from '../dryrun/dryRun';
import type { Result } from '../format/schemas';
import type { Ledger } from '../ledger/ledger';
import { describeFailureReason, type FailureReason } from '../run/failureReasons';
import type { RecordStatus, RunRecord } from '../model/runs';

/** The result block of a dry run: what was read and whether it passed. */
export function resultOfDryRun(report: DryRunReport): Result {
  const { total, valid, rejected, duplicates, selected } = report.counts;
  return {
    outcome: report.passed ? 'passed' : 'not passed',
    ...(report.problems.length > 0 ? { reason: report.problems.join('; ') } : {}),
    mode: 'dry-run',
    ...(report.environment.name ? { environment: report.environment.name } : {}),
    operator: report.operator,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: elapsedMs(report.startedAt, report.finishedAt) ?? 0,
    counts: { total, valid, rejected, duplicates, selected },
    run: report.id,
    fingerprint: report.fingerprint.combined,
  };
}

/** What a run recorded about itself at its end (`runs.counts`): the records it finished. */
export interface RunCounts {
  succeeded?: number;
  failed?: number;
  rejected?: number;
  skipped?: number;
  done?: number;
  total?: number | null;
  /** The run's top failure reasons (failureReasons.ts). */
  failures?: FailureReason[];
  /** Records skipped because another cell delivered them, by that cell (deliveredElsewhere.ts). */
  doneElsewhere?: Record<string, number>;
  [status: string]: unknown;
}

/** Parses a run's stored counts; a crashed run has none, and a damaged value is treated as none. */
export function parseRunCounts(run: RunRecord): RunCounts | undefined {
  if (!run.counts) return undefined;
  try {
    const value = JSON.parse(run.counts) as unknown;
    return value && typeof value === 'object' ? (value as RunCounts) : undefined;
  } catch {
    return undefined;
  }
}

/** The result block of an execute, production or verify run, read from the ledger after it ended. */
export async function resultOfRun(ledger: Ledger, run: RunRecord): Promise<Result> {
  const chain = await chainState(ledger, run.chain);
  const own = parseRunCounts(run);
  const finishedAt = run.endedAt ?? (await ledger.lastOutcomeAt(run.id));
  const durationMs = finishedAt ? elapsedMs(run.startedAt, finishedAt) : undefined;
  const processed = processedBy(own) ?? chain.finishedByRun(run.id);
  const counts: Record<string, number> = {
    ...(typeof own?.total === 'number' ? { total: own.total } : {}),
    ...chain.byStatus,
    processed,
    ...(own?.skipped ? { skipped: own.skipped } : {}),
  };
  return {
    outcome: run.outcome,
    ...(run.reason ? { reason: run.reason } : {}),
    mode: run.mode,
    ...(run.environment ? { environment: run.environment } : {}),
    operator: run.operator,
    startedAt: run.startedAt,
    ...(finishedAt ? { finishedAt } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    counts,
    ...(own?.doneElsewhere && Object.keys(own.doneElsewhere).length > 0
      ? { doneElsewhere: own.doneElsewhere }
      : {}),
    ...(durationMs ? { rate: round2(processed / (durationMs / 1000)) } : {}),
    ...(Object.keys(chain.errorsByKind).length > 0 ? { errors: chain.errorsByKind } : {}),
    ...failuresOf(own),
    run: run.id,
    fingerprint: run.fingerprint,
  };
}

/** The run's top failure reasons in words, for the result block; nothing when none is recorded. */
function failuresOf(counts: RunCounts | undefined): Pick<Result, 'failures'> {
  const failures = Array.isArray(counts?.failures) ? counts.failures : [];
  return failures.length > 0 ? { failures: failures.map(describeFailureReason) } : {};
}

/** Records a run finished itself (not those skipped because an earlier run of the chain had). */
function processedBy(counts: RunCounts | undefined): number | undefined {
  if (!counts) return undefined;
  const statuses = Object.entries(counts).filter(([name]) => !NOT_STATUSES.has(name));
  return statuses.reduce((sum, [, value]) => sum + (typeof value === 'number' ? value : 0), 0);
}

const NOT_STATUSES = new Set(['skipped', 'done', 'total']);

interface ChainState {
  /** Records of the chain in each status, zero counts left out; every status the ledger holds. */
  byStatus: Record<string, number>;
  /** Records whose latest outcome is an error, by kind (failed records only: rejections are counted). */
  errorsByKind: Record<string, number>;
  finishedByRun(run: string): number;
}

/**
 * Counts by status, errors by kind and outcomes per run of a chain's latest outcomes, from the ledger's
 * tally (counted inside SQLite) rather than from every outcome: a million-record chain is summed in a
 * fraction of a second.
 */
async function chainState(ledger: Ledger, chain: string): Promise<ChainState> {
  const byStatus: Record<string, number> = {};
  const errorsByKind: Record<string, number> = {};
  const perRun = new Map<string, number>();
  for (const { status, errorKind, run, count } of await ledger.tallyChain(chain)) {
    byStatus[status] = (byStatus[status] ?? 0) + count;
    if (errorKind !== undefined && isError(status))
      errorsByKind[errorKind] = (errorsByKind[errorKind] ?? 0) + count;
    perRun.set(run, (perRun.get(run) ?? 0) + count);
  }
  return { byStatus: inStatusOrder(byStatus), errorsByKind, finishedByRun: (run) => perRun.get(run) ?? 0 };
}

const STATUS_ORDER = ['succeeded', 'verified', 'failed', 'mismatch', 'missing', 'error', 'rejected'];

/** Counts in a reading order: good news first, then problems, then anything else alphabetically. */
export function inStatusOrder(counts: Record<string, number>): Record<string, number> {
  const rank = (status: string) => {
    const index = STATUS_ORDER.indexOf(status);
    return index === -1 ? STATUS_ORDER.length : index;
  };
  const names = Object.keys(counts).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return Object.fromEntries(names.map((name) => [name, counts[name]!]));
}

/** An outcome with an error kind counts as an error unless it succeeded or was rejected (counted apart). */
function isError(status: RecordStatus): boolean {
  return status !== 'succeeded' && status !== 'rejected';
}

/** Milliseconds between two ISO times; undefined when either does not parse. */
export function elapsedMs(from: string, to: string): number | undefined {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
