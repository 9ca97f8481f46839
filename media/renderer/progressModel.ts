/**
 * The live progress view's content, computed from the latest status: every text and width the view
 * shows. Pure (no DOM), so each figure is unit-tested; progressView.ts only copies it into elements.
 */
import { staleHeartbeat } from '../../src/core/run/heartbeat';
import type { RunState, RunStatus } from '../../src/core/run/runStatus';
import { describeDoneElsewhere, inProduction, selectionProgress } from '../../src/core/run/statusFigures';
import { errorKindRows, type ErrorKindRow } from './aggregate';
import { formatClock, formatCount, formatDuration, formatLatency, formatPercent, formatRate } from './format';

export type Tone = 'neutral' | 'info' | 'success' | 'warning' | 'danger';

export interface Stat {
  id: string;
  label: string;
  value: string;
  tone?: Tone;
  /** Details for the tooltip. */
  title?: string;
}

/** Widths of the bar's segments as shares of the whole bar (0–1), in drawing order. */
export interface BarSegments {
  succeeded: number;
  failed: number;
  rejected: number;
  skipped: number;
}

export interface ProgressModel {
  state: RunState;
  stateLabel: string;
  stateTone: Tone;
  mode: string;
  production: boolean;
  /** `cell full · local` */
  context: string;
  /** Why a run halted, is stopping or paused, or how it finished. */
  banner?: { tone: Tone; text: string };
  /** False while the total is unknown: the bar then shows outcomes of what is done, without a goal. */
  determinate: boolean;
  segments: BarSegments;
  /** 0–100 for assistive technology; undefined when the total is unknown. */
  percent?: number;
  headline: string;
  /** Records the run skips because other cells delivered them: "10 skipped: done by small-batch". */
  doneElsewhere: string;
  eta: string;
  /** What happened to the records: succeeded, failed, rejected, skipped, in flight. */
  recordStats: Stat[];
  /** How fast and how well the target answers: rates, limit, latency. */
  speedStats: Stat[];
  errors: ErrorKindRow[];
  errorTotal: number;
  updated: string;
}

const STATE_LABELS: Record<RunState, string> = {
  running: 'Running',
  paused: 'Paused',
  stopping: 'Stopping',
  halted: 'Halted',
  finished: 'Finished',
};

export function progressModel(status: RunStatus, now: Date = new Date()): ProgressModel {
  const total = positive(status.total);
  const errors = errorKindRows(status.errorsByKind);
  const determinate = total !== undefined;
  return {
    state: status.state,
    stateLabel: STATE_LABELS[status.state] ?? String(status.state),
    stateTone: stateTone(status),
    mode:
      status.mode === 'production'
        ? 'PRODUCTION'
        : inProduction(status)
          ? `${status.mode} · PRODUCTION`
          : status.mode,
    production: inProduction(status),
    context: [`cell ${status.cell}`, status.environment].filter(Boolean).join(' · '),
    ...bannerOf(status),
    determinate,
    segments: segments(status, total),
    ...(determinate ? { percent: Math.min(100, (status.done / total) * 100) } : {}),
    headline: headline(status, total),
    doneElsewhere: doneElsewhereText(status),
    eta: etaText(status),
    recordStats: recordStats(status),
    speedStats: speedStats(status),
    errors,
    errorTotal: errors.reduce((sum, row) => sum + row.count, 0),
    // A runner that stopped writing its status (SIGSTOP, hung) must not look like a running one.
    updated: staleHeartbeat(status, now.getTime()) ?? `updated ${formatClock(status.updatedAt, now)}`,
  };
}

/**
 * Done out of the records the cell selects to send — the figure the dry run and the confirmation show
 * (statusFigures.ts). A status without it (an older runner) counts what the chain processes.
 */
function headline(status: RunStatus, total: number | undefined): string {
  const selection = selectionProgress(status);
  if (selection.of !== undefined) {
    return `${formatCount(selection.done)} of ${formatCount(selection.of)} selected records · ${formatPercent(selection.done, selection.of)}`;
  }
  if (total !== undefined) {
    return `${formatCount(status.done)} of ${formatCount(total)} records to process · ${formatPercent(status.done, total)}`;
  }
  return `${formatCount(status.done)} records done`;
}

function recordStats(status: RunStatus): Stat[] {
  // A verification sends nothing: its records are verified, mismatched, missing or not checked.
  if (status.mode === 'verify') {
    const v = status.verification ?? { verified: 0, mismatch: 0, missing: 0, error: 0 };
    return [
      { id: 'verified', label: 'Verified', value: formatCount(v.verified), tone: 'success' },
      {
        id: 'mismatch',
        label: 'Mismatch',
        value: formatCount(v.mismatch),
        tone: v.mismatch > 0 ? 'danger' : 'neutral',
      },
      {
        id: 'missing',
        label: 'Missing',
        value: formatCount(v.missing),
        tone: v.missing > 0 ? 'warning' : 'neutral',
      },
      {
        id: 'error',
        label: 'Not checked',
        value: formatCount(v.error),
        title: 'The check itself failed (an error)',
      },
      { id: 'in-flight', label: 'In flight', value: formatCount(status.inFlight) },
    ];
  }
  return [
    { id: 'succeeded', label: 'Succeeded', value: formatCount(status.succeeded), tone: 'success' },
    {
      id: 'failed',
      label: 'Failed',
      value: formatCount(status.failed),
      tone: status.failed > 0 ? 'danger' : 'neutral',
    },
    {
      id: 'rejected',
      label: 'Rejected',
      value: formatCount(status.rejected),
      tone: status.rejected > 0 ? 'warning' : 'neutral',
      title: 'Malformed records refused before sending',
    },
    {
      id: 'skipped',
      label: 'Skipped',
      value: formatCount(status.skipped),
      title: skippedTitle(status),
    },
    { id: 'in-flight', label: 'In flight', value: formatCount(status.inFlight) },
  ];
}

/** What the skipped records are: finished by an earlier run of this chain, or delivered by another cell. */
function skippedTitle(status: RunStatus): string {
  const byOthers = doneElsewhereText(status);
  return byOthers
    ? `Already done: ${byOthers}; the rest by an earlier run of this chain`
    : 'Already finished by an earlier run of this chain';
}

/** "10 skipped: done by small-batch", or empty when no other cell delivered any of the records. */
function doneElsewhereText(status: Pick<RunStatus, 'doneElsewhere'>): string {
  const elsewhere = status.doneElsewhere;
  return elsewhere && typeof elsewhere === 'object' ? describeDoneElsewhere(elsewhere).join('; ') : '';
}

function speedStats(status: RunStatus): Stat[] {
  const { rate, latencyMs } = status;
  // Only a running run sends: paused, stopping, halted or finished, the rate now is nothing.
  const sending = status.state === 'running';
  const slowed = sending && rate !== undefined && rate.effective < rate.configured;
  return [
    { id: 'rate', label: 'Rate now', value: sending ? formatRate(rate?.now) : '—' },
    { id: 'average', label: 'Average', value: formatRate(rate?.average) },
    {
      id: 'limit',
      label: slowed ? `Slowed from ${formatRate(rate.configured)}` : 'Limit',
      value: formatRate(slowed ? rate.effective : rate?.configured),
      tone: slowed ? 'warning' : 'neutral',
      title: `${formatCount(status.concurrency)} at a time`,
    },
    { id: 'p50', label: 'Latency p50', value: formatLatency(latencyMs?.p50) },
    {
      id: 'p95',
      label: 'Latency p95',
      value: formatLatency(latencyMs?.p95),
      title: `p99 ${formatLatency(latencyMs?.p99)}`,
    },
  ];
}

function etaText(status: RunStatus): string {
  if (status.state === 'finished' || status.state === 'halted') {
    const seconds = (Date.parse(status.updatedAt) - Date.parse(status.startedAt)) / 1000;
    return `took ${formatDuration(seconds)}`;
  }
  if (status.state === 'paused') return 'ETA: paused';
  return `ETA ${formatDuration(status.etaSeconds)}`;
}

function bannerOf(status: RunStatus): { banner?: ProgressModel['banner'] } {
  const reason = status.reason ?? status.outcome;
  if (status.waiting && (status.state === 'running' || status.state === 'stopping')) {
    // The ledger is out of reach (a PostgreSQL restart): nothing is sent until it is back.
    return { banner: { tone: 'warning', text: `Waiting ${status.waiting}: nothing is sent meanwhile` } };
  }
  switch (status.state) {
    case 'halted':
      return {
        banner: {
          tone: 'danger',
          text: `Halted: ${reason ?? 'no reason given'}. Nothing is lost: ${resumeHow(status.mode)} to resume where it stopped.`,
        },
      };
    case 'stopping':
      return {
        banner: { tone: 'warning', text: `Stopping: finishing ${formatCount(status.inFlight)} in flight` },
      };
    case 'paused':
      return {
        banner: { tone: 'warning', text: reason ? `Paused: ${reason}` : 'Paused: resume to continue' },
      };
    case 'finished':
      // A plain success says so in the badge; the banner is for what needs reading.
      if (!status.reason && (!status.outcome || status.outcome === 'succeeded')) return {};
      return { banner: { tone: finishedTone(status), text: `Finished: ${reason}` } };
    default:
      return reason ? { banner: { tone: 'info', text: reason } } : {};
  }
}

/** The action that resumes a halted run: ▶ dry-runs an execute cell, so it is named. */
function resumeHow(mode: string): string {
  if (mode === 'production') return 'use Run in Production… on the cell again';
  if (mode === 'verify') return 'run the verify cell (▶) again';
  return 'use Execute… on the cell again';
}

function stateTone(status: RunStatus): Tone {
  switch (status.state) {
    case 'running':
      return 'info';
    case 'paused':
    case 'stopping':
      return 'warning';
    case 'halted':
      return 'danger';
    case 'finished':
      return finishedTone(status);
    default:
      return 'neutral';
  }
}

function finishedTone(status: RunStatus): Tone {
  if (status.outcome && status.outcome !== 'succeeded') return 'danger';
  return status.failed > 0 ? 'warning' : 'success';
}

/**
 * Segment widths over the total when it is known, else over what is done. Counts that add up to more
 * than the base (a total estimated before a resume) are scaled down so the bar never overflows.
 */
function segments(status: RunStatus, total: number | undefined): BarSegments {
  const counts = {
    succeeded: nonNegative(status.succeeded),
    failed: nonNegative(status.failed),
    rejected: nonNegative(status.rejected),
    skipped: nonNegative(status.skipped),
  };
  const sum = counts.succeeded + counts.failed + counts.rejected + counts.skipped;
  const base = Math.max(total ?? 0, sum, 1);
  return {
    succeeded: counts.succeeded / base,
    failed: counts.failed / base,
    rejected: counts.rejected / base,
    skipped: counts.skipped / base,
  };
}

function positive(value: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function nonNegative(value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
