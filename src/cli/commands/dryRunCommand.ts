import { dryRun, type DryRunReport } from '../../core/dryrun/dryRun';
import { parseVarOverrides, resolveEnvironment } from '../../core/job/environment';
import { findCell, isRunnable, type RunnableCell, type Runbook } from '../../core/format/runbook';
import { resolveJob } from '../../core/job/job';
import { recordDryRunResult } from '../../core/report/recordResult';
import { UserError } from '../../core/model/types';
import { ExitCode } from '../exitCodes';
import { whoIsActing } from '../identity';
import { loadRunbook } from '../loadRunbook';
import { formatDryRunReport } from '../output/dryRunText';
import { ProgressLine } from '../output/progressLine';

export interface DryRunCommandOptions {
  cell?: string;
  env?: string;
  var?: string[];
  json?: boolean;
  progress?: boolean;
  /** Write each cell's result block into the runbook (default true: the runbook is the record). */
  writeResult?: boolean;
}

/**
 * `backfill dry-run FILE`: dry-runs one cell (--cell) or every dry-run cell. Exit 0 when all passed,
 * 1 when one finished below its success threshold.
 */
export async function dryRunCommand(file: string, options: DryRunCommandOptions): Promise<number> {
  const runbook = loadRunbook(file);
  const cells = cellsToDryRun(runbook, options.cell);
  const environment = resolveEnvironment(runbook.header, options.env, parseVarOverrides(options.var ?? []));
  const operator = whoIsActing(file);
  const reports: DryRunReport[] = [];
  for (const cell of cells) {
    const progress = new ProgressLine(options.progress !== false, `dry run ${cell.id}`);
    try {
      reports.push(
        await dryRun(runbook, cell, resolveJob(runbook, cell), {
          environment,
          secretValues: process.env,
          operator,
          onProgress: (p) => progress.update(p.records, p.bytesRead, p.totalBytes),
        }),
      );
    } finally {
      progress.clear();
    }
  }
  const recorded = options.writeResult === false ? [] : reports.map((r) => recordResult(runbook, r));
  if (options.json) {
    process.stdout.write(JSON.stringify(options.cell ? reports[0] : reports, null, 2) + '\n');
  } else {
    process.stdout.write(reports.map((r, i) => formatDryRunReport(r) + (recorded[i] ?? '')).join('\n'));
  }
  return reports.every((r) => r.passed) ? ExitCode.ok : ExitCode.belowThreshold;
}

/** Writes the cell's result block; a failure is a warning, never a failed dry run. */
function recordResult(runbook: Runbook, report: DryRunReport): string {
  const write = recordDryRunResult(runbook.file, report, process.env);
  if (write.written) return `  Result recorded in ${runbook.file} (result for=${report.cell})\n`;
  process.stderr.write(
    `backfill: warning: the result of cell ${report.cell} was not recorded: ${write.reason}\n`,
  );
  return '';
}

function cellsToDryRun(runbook: Runbook, id: string | undefined): RunnableCell[] {
  const runnable = runbook.cells.filter((c): c is RunnableCell => isRunnable(c) && c.kind !== 'verify');
  if (id === undefined) {
    const dryRunCells = runnable.filter((c) => c.kind === 'dry-run');
    if (dryRunCells.length === 0) {
      throw new UserError(`${runbook.file} has no dry-run cell: pass --cell with one of: ${ids(runnable)}`);
    }
    return dryRunCells;
  }
  const cell = findCell(runbook, id);
  if (!cell) throw new UserError(`no cell "${id}" in ${runbook.file}: use one of: ${ids(runnable)}`);
  if (cell.kind === 'verify') {
    throw new UserError(
      `cell ${id} is a verify cell: dry-run takes a dry-run or execute cell (${ids(runnable)})`,
    );
  }
  if (!isRunnable(cell)) {
    throw new UserError(
      `cell ${id} is a ${cell.kind} cell, which does not run: use one of: ${ids(runnable)}`,
    );
  }
  return [cell];
}

function ids(cells: RunnableCell[]): string {
  return cells.map((c) => c.id).join(', ') || '(none)';
}
