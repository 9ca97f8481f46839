/**
 * The announcement for stakeholders: a short plain-text message to paste into a channel or an e-mail.
 * At the start: what, when, how fast, how to halt it, whom to contact. When done: the results, the
 * verification, and where the report is.
 */
import * as path from 'node:path';
import type { ResolvedEnvironment } from '../job/environment';
import type { ReportModel } from './reportModel';
import type { RunReport } from './runReport';
import { countsText, formatDuration, formatNumber, formatTime } from './text';

export type AnnouncementPhase = 'start' | 'done';

export interface AnnouncementContext {
  model: ReportModel;
  /** The runbook path as the operator typed it: commands in the message use it. */
  runbookPath: string;
  /** The execute cell the announcement is about (rate, estimate). */
  cell: { id: string; rate: number; concurrency: number };
  environment: ResolvedEnvironment;
  /** Records the cell will send, from its latest dry run, when known. */
  records?: number;
  /** When it runs, as the operator wrote it (`--when`); default: now, or the running run's start. */
  when?: string;
  now: Date;
  /** Where the report is, when it was written. */
  reportPath?: string;
}

/** The message for one phase, ending with a line break. */
export function renderAnnouncement(phase: AnnouncementPhase, context: AnnouncementContext): string {
  const lines = phase === 'start' ? startLines(context) : doneLines(context);
  return [...lines, '', `Contact: ${contacts(context.model)}`].join('\n') + '\n';
}

function startLines(context: AnnouncementContext): string[] {
  const { model, cell, environment, records } = context;
  const estimate =
    records !== undefined
      ? ` — ${formatNumber(records)} records, about ${formatDuration((records / cell.rate) * 1000)}`
      : '';
  const production = environment.production ? ' (PRODUCTION)' : '';
  const file = context.runbookPath;
  return [
    `Backfill starting: ${model.title}`,
    '',
    `What: ${model.title} (runbook ${model.name}, cell ${cell.id}) in ${environment.name || 'the default environment'}${production}.`,
    `When: ${whenText(context)}${estimate}.`,
    `Rate: at most ${formatNumber(cell.rate)} records per second, ${formatNumber(cell.concurrency)} at a time; slowed down automatically when the target answers 429 or 503.`,
    `How to halt it: backfill control ${file} stop (or pause, or rate N to slow it down), or create the file ${path.basename(file)}.halt beside the runbook. A stopped run resumes where it stopped.`,
  ];
}

function whenText(context: AnnouncementContext): string {
  if (context.when) return context.when;
  const running = context.model.runs.find((run) => run.cell === context.cell.id && run.outcome === 'running');
  return running
    ? `running since ${formatTime(running.startedAt)}`
    : `starting now, ${formatTime(context.now.toISOString())}`;
}

function doneLines(context: AnnouncementContext): string[] {
  const { model } = context;
  const results = model.cells
    .filter((cell) => cell.kind === 'execute' && cell.outcome)
    .map(
      (cell) =>
        `- ${cell.id}: ${cell.outcome} — ${countsText(cell.counts)} (${chainSummary(model.runs, cell.id)})`,
    );
  const verification = model.verification.filter((report) => report.run);
  return [
    `Backfill done: ${model.title}`,
    '',
    'Results:',
    ...(results.length > 0 ? results : ['- nothing was executed']),
    `Verification: ${
      verification.length > 0
        ? verification
            .map((report) => `${report.cell} ${report.outcome} — ${countsText(report.counts)}`)
            .join('; ')
        : 'not run'
    }`,
    `Manual interventions: ${interventionSummary(model)}`,
    context.reportPath
      ? `Report: ${context.reportPath}`
      : `Report: not written yet — backfill report ${context.runbookPath} --format html`,
  ];
}

/** Runs of the cell's latest chain: how many, how long in all, when the last one ended. */
function chainSummary(runs: RunReport[], cell: string): string {
  const ofCell = runs.filter((run) => run.cell === cell && run.kind !== 'dry-run');
  const chain = ofCell.at(-1)?.chain;
  const inChain = ofCell.filter((run) => run.chain === chain);
  const totalMs = inChain.reduce((sum, run) => sum + (run.durationMs ?? 0), 0);
  const ended = inChain.at(-1)?.endedAt;
  const count = `${inChain.length} run${inChain.length === 1 ? '' : 's'}`;
  return `${count}, ${formatDuration(totalMs)} running${ended ? `, ended ${formatTime(ended)}` : ''}`;
}

function interventionSummary(model: ReportModel): string {
  if (model.interventions.length === 0) return 'none';
  const byKind = new Map<string, number>();
  for (const intervention of model.interventions)
    byKind.set(intervention.kind, (byKind.get(intervention.kind) ?? 0) + 1);
  // An override says what was overridden, as the command line said it.
  const overrides = new Set(model.interventions.flatMap((i) => i.overrides ?? []).map((o) => `--var ${o}`));
  return [...byKind]
    .map(([kind, n]) =>
      kind === 'override' ? `${n} override (${[...overrides].join(' ')})` : `${n} ${kind}`,
    )
    .join(', ');
}

function contacts(model: ReportModel): string {
  const people = [
    `${model.owner} (owner)`,
    ...model.stakeholders
      .filter((s) => !model.owner.includes(s.name))
      .map((s) => `${s.name}${s.role ? ` — ${s.role}` : ''}${s.contact ? ` <${s.contact}>` : ''}`),
  ];
  return people.join('; ');
}
