/**
 * What people did during the backfill, read back from the runs: manual interventions (resumes, re-runs
 * of failed records, restarts, halts, variable overrides) and one timeline of everything that happened.
 */
import type { Runbook } from '../format/runbook';
import type { ChecklistReport, RunReport } from './runReport';
import { countsText } from './text';
import { describeChange, recordedThresholds } from '../run/thresholds';

export type InterventionKind =
  'resume' | 're-run' | 'judged again' | 'restart' | 'halt' | 'crash' | 'override';

export interface Intervention {
  at: string;
  cell: string;
  run: string;
  kind: InterventionKind;
  text: string;
  /** An override's variables as `NAME=value` (secrets are never --var values; reports redact them). */
  overrides?: string[];
}

export interface TimelineEntry {
  at: string;
  text: string;
  /** What kind of event, for a marker in the report. */
  kind: 'sign-off' | 'dry-run' | 'start' | 'end' | 'halt';
}

/** Interventions in the order they happened, derived from each run's parameters, chain and outcome. */
export function interventionsOf(runs: RunReport[], runbook: Runbook): Intervention[] {
  const interventions: Intervention[] = [];
  const previousInChain = new Map<string, RunReport>();
  const overridesOfCell = new Map<string, string>();
  for (const run of runs) {
    if (run.kind === 'dry-run') continue;
    const add = (kind: InterventionKind, text: string, at = run.startedAt) =>
      interventions.push({ at, cell: run.cell, run: run.id, kind, text });
    const previous = run.chain ? previousInChain.get(run.chain) : undefined;
    const only = onlyFlag(run);
    if (only) add('re-run', rerunText(run, only));
    else if (run.params.rejudge === true) add('judged again', judgedAgainText(run, previous));
    else if (previous) add('resume', resumeText(run, previous));
    if (run.params.restart)
      add('restart', 'started over with --restart: a new chain (earlier outcomes stay in the ledger)');
    // Overrides are listed when they first appear or change, not again for every run that repeats them.
    const overrides = Object.entries(varOverrides(run, runbook)).map(([name, value]) => `${name}=${value}`);
    if (overrides.length > 0 && overridesOfCell.get(run.cell) !== overrides.join(', ')) {
      add('override', `variables overridden with --var: ${overrides.join(', ')}`);
      interventions.at(-1)!.overrides = overrides;
    }
    overridesOfCell.set(run.cell, overrides.join(', '));
    if (run.outcome === 'halted') add('halt', `halted: ${run.reason ?? 'no reason recorded'}`, run.endedAt);
    if (run.outcome === 'crashed') {
      add('crash', 'the process ended without finishing the run (found later by another run)', run.endedAt);
    }
    if (run.chain) previousInChain.set(run.chain, run);
  }
  return interventions.sort(byTime);
}

/** The `--only` selection a run was started with (`failed`, `unverified`), if any. */
export function onlyFlag(run: RunReport): string | undefined {
  const rerun = run.params.rerun as { only?: unknown } | undefined;
  if (typeof rerun?.only === 'string') return rerun.only;
  for (const [name, value] of Object.entries(run.params)) {
    if (value === true && /^only[A-Z]/.test(name)) return name.slice(4).toLowerCase();
  }
  return undefined;
}

function rerunText(run: RunReport, only: string): string {
  const finished = Object.entries(run.counts).filter(([name]) => name !== 'skipped');
  return `re-ran exactly the ${only} records with --only ${only}: ${countsText(Object.fromEntries(finished))}`;
}

/**
 * "successThreshold 0.99 (was 0.9999): run 1a2b3c4d, which had ended below-threshold, now succeeded;
 * nothing sent" — a run that sent nothing: the chain's records were judged with the changed thresholds.
 */
function judgedAgainText(run: RunReport, judged: RunReport | undefined): string {
  const now = recordedThresholds(JSON.stringify(run.params));
  const before = judged && recordedThresholds(JSON.stringify(judged.params));
  const changed = now ? describeChange(before, now) : '';
  const was = judged ? `run ${shortId(judged.id)}, which had ended ${judged.outcome}, ` : '';
  return `${changed ? `${changed}: ` : ''}${was}now ${run.outcome}; nothing sent`;
}

function resumeText(run: RunReport, previous: RunReport): string {
  const skipped = run.counts.skipped ?? 0;
  return `resumed the ${previous.outcome} run ${shortId(previous.id)} (${skipped} records already done were skipped)`;
}

/** Variables a run used that differ from its environment's declared `vars`: they came from --var. */
export function varOverrides(run: RunReport, runbook: Runbook): Record<string, string> {
  const declared = runbook.header.environments[run.environment]?.vars ?? {};
  const used = run.params.vars ?? {};
  return Object.fromEntries(Object.entries(used).filter(([name, value]) => declared[name] !== value));
}

/** One timeline: sign-offs, dry runs, and the start and end of every run, oldest first. */
export function timelineOf(runs: RunReport[], checklists: ChecklistReport[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const checklist of checklists) {
    for (const item of checklist.items) {
      for (const signOff of item.history) {
        const verb = signOff.checked ? 'signed off' : 'withdrew the sign-off of';
        entries.push({ at: signOff.at, kind: 'sign-off', text: `${signOff.by} ${verb} "${item.item}"` });
      }
      const recorded = item.history.some(
        (s) => s.checked && s.by === item.checked?.by && s.at === item.checked?.at,
      );
      if (item.checked && !recorded) {
        entries.push({
          at: item.checked.at,
          kind: 'sign-off',
          text: `${item.checked.by} signed off "${item.item}"`,
        });
      }
    }
  }
  for (const run of runs) entries.push(...runEntries(run));
  return entries.sort(byTime);
}

function runEntries(run: RunReport): TimelineEntry[] {
  const who = `${run.operator}${run.environment ? ` in ${run.environment}` : ''}`;
  if (run.kind === 'dry-run') {
    const selected = run.counts.selected ?? run.counts.valid ?? 0;
    const text = `dry run of ${run.cell} ${run.outcome}: ${selected} records selected, ${run.counts.rejected ?? 0} rejected (${who})`;
    return [{ at: run.endedAt ?? run.startedAt, kind: 'dry-run', text }];
  }
  const entries: TimelineEntry[] = [
    {
      at: run.startedAt,
      kind: 'start',
      text: `${run.kind} run ${shortId(run.id)} of ${run.cell} started (${who})`,
    },
  ];
  if (run.endedAt && run.outcome !== 'running') {
    const counts = countsText(run.counts);
    const reason = run.reason ? ` — ${run.reason}` : '';
    entries.push({
      at: run.endedAt,
      kind: run.outcome === 'halted' || run.outcome === 'crashed' ? 'halt' : 'end',
      text: `${run.kind} run ${shortId(run.id)} of ${run.cell} ${run.outcome}${reason}${counts !== '—' ? `: ${counts}` : ''}`,
    });
  }
  return entries;
}

/** The first block of a run id: enough to tell runs apart in a report, the full id is in the table. */
export function shortId(id: string): string {
  return id.split('-')[0] ?? id;
}

/** Orders by time; a time that does not parse (a hand-written "yesterday") sorts by its text, last. */
function byTime(a: { at: string }, b: { at: string }): number {
  const ta = Date.parse(a.at);
  const tb = Date.parse(b.at);
  if (Number.isFinite(ta) && Number.isFinite(tb)) return ta - tb;
  if (Number.isFinite(ta)) return -1;
  if (Number.isFinite(tb)) return 1;
  return a.at.localeCompare(b.at);
}
