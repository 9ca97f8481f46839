import * as fs from 'node:fs';
import { findCell } from '../../core/format/runbook';
import { parseVarOverrides, resolveEnvironment } from '../../core/job/environment';
import { resolveJob } from '../../core/job/job';
import { UserError } from '../../core/model/types';
import { joinBackfill } from '../../core/run/runner';
import { openEventsFile, parseMetricsAddress, parseWaitSeconds } from '../cliOptions';
import { ExitCode, exitCodeOfRun } from '../exitCodes';
import { whoIsActing } from '../identity';
import { loadRunbook } from '../loadRunbook';
import { ProgressLine } from '../output/progressLine';
import { describeResult, progressText } from '../output/runText';

export interface WorkerCommandOptions {
  cell: string;
  env?: string;
  var?: string[];
  events?: string;
  metricsPort?: string;
  metricsHost?: string;
  waitForRun?: string;
  json?: boolean;
  progress?: boolean;
}

/**
 * `backfill worker FILE --cell ID`: joins the live run of the cell in the environment's PostgreSQL
 * ledger and works on its chunks until none is left. No dry run and no production confirmation of its
 * own: the run's creator passed the gates, and a worker whose runbook differs from the run's is refused.
 * SIGINT/SIGTERM make this worker leave (its chunks go back to the others); the run goes on. At its start
 * it waits for the ledger's database and for the run, saying so once on stderr.
 */
export async function workerCommand(file: string, options: WorkerCommandOptions): Promise<number> {
  const metrics = parseMetricsAddress(options);
  const runWaitSeconds = parseWaitSeconds(options.waitForRun);
  const runbook = loadRunbook(file);
  const cell = findCell(runbook, options.cell);
  if (!cell || (cell.kind !== 'execute' && cell.kind !== 'verify')) {
    const ids = runbook.cells.filter((c) => c.kind === 'execute' || c.kind === 'verify').map((c) => c.id);
    throw new UserError(
      `--cell ${options.cell}: not an execute or verify cell of ${file}; use one of: ${ids.join(', ') || '(none)'}`,
    );
  }
  const environment = resolveEnvironment(runbook.header, options.env, parseVarOverrides(options.var ?? []));
  const events = openEventsFile(options.events);
  const progress = new ProgressLine(options.progress !== false && !options.json, `worker ${cell.id}`);
  const leave = new AbortController();
  const onSignal = () => leave.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const say = (message: string) => {
      progress.clear();
      process.stderr.write(`backfill: ${message}\n`);
    };
    const start = { say, ...(runWaitSeconds !== undefined ? { runWaitSeconds } : {}) };
    const result = await joinBackfill(
      {
        runbook,
        job: resolveJob(runbook, cell),
        environment,
        secretValues: process.env,
        operator: whoIsActing(runbook.file),
        ...(metrics !== undefined ? { metrics } : {}),
        signal: leave.signal,
        onEvent: (event) => {
          if (events !== undefined) fs.writeSync(events, JSON.stringify(event) + '\n');
          if (event.type === 'progress') progress.show(progressText(event.status));
        },
      },
      start,
    );
    progress.clear();
    const exitCode = exitCodeOfRun(result.outcome);
    if (options.json) {
      process.stdout.write(JSON.stringify({ ...result, exitCode }, null, 2) + '\n');
    } else if (result.outcome === 'refused') {
      process.stderr.write(`backfill: refused: ${result.reason ?? 'refused'}\n`);
    } else {
      process.stdout.write(describeResult(result, file, cell.id));
    }
    return result.outcome === 'refused' ? ExitCode.refused : exitCode;
  } finally {
    progress.clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (events !== undefined) fs.closeSync(events);
  }
}
