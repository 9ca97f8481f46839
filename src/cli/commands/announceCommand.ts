import * as fs from 'node:fs';
import { resolveEnvironment } from '../../core/job/environment';
import { serializeRunbookFile } from '../../core/format/runbookFile';
import type { Cell, Runbook } from '../../core/format/runbook';
import { resolveJob } from '../../core/job/job';
import { renderAnnouncement, type AnnouncementPhase } from '../../core/report/announcement';
import { redactorFor } from '../../core/report/knownSecrets';
import { defaultReportPath, loadReportModel } from '../../core/report/report';
import type { ReportModel } from '../../core/report/reportModel';
import { UserError } from '../../core/model/types';
import { ExitCode } from '../exitCodes';
import { loadRunbook } from '../loadRunbook';

export interface AnnounceCommandOptions {
  phase?: string;
  cell?: string;
  env?: string;
  when?: string;
  report?: string;
}

type ExecuteCell = Extract<Cell, { kind: 'execute' }>;

/**
 * `backfill announce FILE --phase start|done`: prints a short message for stakeholders — at the start
 * what, when, how fast, how to halt it and whom to call; when done the results and where the report is.
 */
export async function announceCommand(file: string, options: AnnounceCommandOptions): Promise<number> {
  const phase = announcementPhase(options.phase);
  const runbook = loadRunbook(file);
  const cell = announcedCell(runbook, options.cell);
  const throttle = resolveJob(runbook, cell).throttle;
  const redactor = redactorFor(serializeRunbookFile(runbook.text), process.env);
  const model = await loadReportModel(runbook, redactor);
  const records = plannedRecords(model, cell);
  const reportPath = options.report ?? existingReport(file);
  const message = renderAnnouncement(phase, {
    model,
    runbookPath: file,
    cell: { id: cell.id, rate: throttle.rate, concurrency: throttle.concurrency },
    environment: resolveEnvironment(runbook.header, options.env),
    now: new Date(),
    ...(records !== undefined ? { records } : {}),
    ...(options.when ? { when: options.when } : {}),
    ...(reportPath ? { reportPath } : {}),
  });
  process.stdout.write(redactor.redact(message));
  return ExitCode.ok;
}

function announcementPhase(phase: string | undefined): AnnouncementPhase {
  if (phase === 'start' || phase === 'done') return phase;
  throw new UserError(`--phase ${phase ?? '(missing)'}: use start or done`);
}

/** The cell asked for, else the last execute cell: in a runbook that walks the steps, the full run. */
function announcedCell(runbook: Runbook, id: string | undefined): ExecuteCell {
  const executes = runbook.cells.filter((c): c is ExecuteCell => c.kind === 'execute');
  const cell = id === undefined ? executes.at(-1) : executes.find((c) => c.id === id);
  if (cell) return cell;
  const ids = executes.map((c) => c.id).join(', ') || '(none)';
  throw new UserError(
    id === undefined
      ? `${runbook.file} has no execute cell to announce`
      : `--cell ${id}: not an execute cell; use one of: ${ids}`,
  );
}

/** Records the cell will send: its latest dry run's selection, else that of a dry-run cell of the same job. */
function plannedRecords(model: ReportModel, cell: ExecuteCell): number | undefined {
  const dryRuns = model.runs.filter((run) => run.kind === 'dry-run').reverse();
  const sameJob = new Set(
    model.cells.filter((c) => c.job === cell.spec.job && c.kind === 'dry-run').map((c) => c.id),
  );
  const own = dryRuns.find((run) => run.cell === cell.id);
  const sibling = cell.spec.subset ? undefined : dryRuns.find((run) => sameJob.has(run.cell));
  return (own ?? sibling)?.counts.selected;
}

function existingReport(file: string): string | undefined {
  return [defaultReportPath(file, 'html'), defaultReportPath(file, 'md')].find((candidate) =>
    fs.existsSync(candidate),
  );
}
