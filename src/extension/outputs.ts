/**
 * The output items cells show. Each rich item (rendered by media/renderer/) comes with a text/plain
 * summary, so a cell reads sensibly without the renderer too. Everything shown passes the run's
 * redactor first.
 */
import * as vscode from 'vscode';
import { MIME } from '../../media/renderer/payloads';
import type { DryRunReport } from '../core/dryrun/dryRun';
import type { ChecklistItem } from '../core/format/schemas';
import { describeFailureReason } from '../core/run/failureReasons';
import type { RunStatus } from '../core/run/runStatus';
import { describeDoneElsewhere } from '../core/run/statusFigures';
import { humanSeconds } from './prompts';
import type { ProgressView } from './runMonitor';

// One list of mime types for the producer (here) and the renderer that reads them.
export { MIME };

/**
 * Output metadata marking a notice (a refusal, a skipped cell): added under a cell's outputs, replacing
 * an earlier notice and keeping everything else.
 */
export const NOTICE_OUTPUT = 'backfillNotice';

/** `notice`, marked as a notice, under `outputs` less any earlier notice. */
export function withNotice(
  outputs: readonly vscode.NotebookCellOutput[],
  notice: vscode.NotebookCellOutput,
): vscode.NotebookCellOutput[] {
  const kept = outputs.filter((output) => output.metadata?.[NOTICE_OUTPUT] !== true);
  return [
    ...kept,
    new vscode.NotebookCellOutput(notice.items, { ...notice.metadata, [NOTICE_OUTPUT]: true }),
  ];
}

export function dryRunOutput(report: DryRunReport): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([
    vscode.NotebookCellOutputItem.json(report, MIME.dryRun),
    vscode.NotebookCellOutputItem.text(dryRunSummary(report)),
  ]);
}

export function dryRunSummary(report: DryRunReport): string {
  const c = report.counts;
  const lines = [
    `Dry run of ${report.cell} (${report.environment.name || 'default environment'}): ${report.passed ? 'passed' : 'did not pass'} — nothing was sent.`,
    `${c.total} read · ${c.valid} valid · ${c.rejected} rejected · ${c.duplicates} duplicate keys · ${c.selected} selected`,
    `Estimated ${humanSeconds(report.estimate.seconds)} at ${report.estimate.rate}/s, concurrency ${report.estimate.concurrency}`,
    ...report.problems.map((problem) => `Problem: ${problem}`),
    ...report.warnings.map((warning) => `Warning: ${warning}`),
    ...report.rejected
      .slice(0, 10)
      .map((r) => `Rejected line ${r.line}${r.key ? ` (${r.key})` : ''}: ${r.reason}`),
  ];
  return lines.join('\n');
}

export function progressOutput(view: ProgressView): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([
    vscode.NotebookCellOutputItem.json(view, MIME.progress),
    vscode.NotebookCellOutputItem.text(progressSummary(view.status)),
  ]);
}

/**
 * The run in text, under the rendered view: its state, counts, which cells delivered the records it
 * skips ("10 skipped: done by small-batch") and its top failure reasons ("50 × connection refused
 * (127.0.0.1:9) — e.g. key 1017"), in the core's words.
 */
export function progressSummary(s: RunStatus): string {
  const of = s.total !== undefined ? ` of ${s.total}` : '';
  const eta =
    s.etaSeconds !== undefined && s.state === 'running' ? ` · ETA ${humanSeconds(s.etaSeconds)}` : '';
  const end = s.reason ? ` — ${s.reason}` : '';
  return [
    `${s.mode === 'production' ? 'PRODUCTION run' : 'Run'} of ${s.cell} (${s.environment || 'default'}): ${s.state}${end}`,
    `${s.done}${of} done · ${s.succeeded} succeeded · ${s.failed} failed · ${s.rejected} rejected · ` +
      `${s.skipped} skipped · ${s.rate.now}/s (configured ${s.rate.configured}/s)${eta}`,
    ...describeDoneElsewhere(s.doneElsewhere ?? {}),
    ...(s.failures ?? []).map((failure) => `Failures: ${describeFailureReason(failure)}`),
  ].join('\n');
}

export interface ChecklistView {
  cell: string;
  items: {
    id: string;
    item: string;
    owner: string;
    required: boolean;
    checked?: { by: string; at: string };
    /** Set when the sign-off does not hold (typed by hand, copied, stale): why, and what to do. */
    problem?: string;
  }[];
}

export function checklistOutput(view: ChecklistView): vscode.NotebookCellOutput {
  const text = view.items
    .map((i) => {
      const mark = i.checked && !i.problem ? '☑' : '☐';
      const who = i.checked
        ? ` — checked by ${i.checked.by} at ${i.checked.at}` +
          (i.problem ? `, but it does not hold: ${i.problem}` : '')
        : '';
      return `${mark} ${i.item} (${i.owner}${i.required ? ', required' : ''})${who}`;
    })
    .join('\n');
  return new vscode.NotebookCellOutput([
    vscode.NotebookCellOutputItem.json(view, MIME.checklist),
    vscode.NotebookCellOutputItem.text(text || '(no items)'),
  ]);
}

/** The checklist payload; `unheld` says, by item id, why a sign-off does not hold (the core decides). */
export function checklistView(
  cell: string,
  items: ChecklistItem[],
  idOf: (item: ChecklistItem) => string,
  unheld: ReadonlyMap<string, string> = new Map(),
): ChecklistView {
  return {
    cell,
    items: items.map((item) => {
      const problem = item.checked ? unheld.get(idOf(item)) : undefined;
      return {
        id: idOf(item),
        item: item.item,
        owner: item.owner,
        required: item.required,
        ...(item.checked ? { checked: { by: item.checked.by, at: item.checked.at } } : {}),
        ...(problem ? { problem } : {}),
      };
    }),
  };
}

export function textOutput(text: string): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(text)]);
}

/** An error the user can act on: what went wrong and what to do next; no stack trace. */
export function errorOutput(title: string, message: string, next?: string): vscode.NotebookCellOutput {
  const error = new Error(next ? `${message}\n\n${next}` : message);
  error.name = title;
  error.stack = '';
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error(error)]);
}
