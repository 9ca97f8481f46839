import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultOperator } from '../../core/dryRun';
import { parseVarOverrides, resolveEnvironment } from '../../core/environment';
import { findCell, type Runbook } from '../../core/format/runbook';
import { resolveJob } from '../../core/job';
import { stateDirFor } from '../../core/ledger/ledger';
import { checkModeGate, checkProductionGates, wantsRealWrite } from '../../core/run/gate';
import { recordRunResult } from '../../core/report/recordResult';
import { runBackfill, type RunEvent, type RunPlan } from '../../core/run/runner';
import { UserError } from '../../core/types';
import { ExitCode } from '../exitCodes';
import { loadRunbook } from '../loadRunbook';
import { duration } from '../output/dryRunText';
import { ProgressLine } from '../output/progressLine';
import { dryRunCommand } from './dryRunCommand';

export interface RunCommandOptions {
  cell: string;
  env?: string;
  var?: string[];
  execute?: boolean;
  production?: boolean;
  confirm?: string;
  restart?: boolean;
  only?: string;
  events?: string;
  metricsPort?: string;
  detach?: boolean;
  json?: boolean;
  progress?: boolean;
  /** Write the cell's result block into the runbook at the end (default true). */
  writeResult?: boolean;
}

/**
 * `backfill run FILE --cell ID`: a dry run of the cell unless --execute (or, for a production
 * environment, --production --confirm NAME) asks for a real write through every gate.
 */
export async function runCommand(file: string, options: RunCommandOptions): Promise<number> {
  if (!wantsRealWrite(options)) {
    process.stderr.write('No --execute: performing a dry run (nothing is sent).\n');
    return dryRunCommand(file, {
      cell: options.cell,
      ...pick(options, ['env', 'var', 'json', 'progress', 'writeResult']),
    });
  }
  if (options.only !== undefined && options.only !== 'failed') {
    throw new UserError(`--only ${options.only}: only "failed" is supported`);
  }
  if (options.restart && options.only) throw new UserError('--restart and --only failed cannot be combined');
  const runbook = loadRunbook(file);
  const cell = findCell(runbook, options.cell);
  if (!cell || cell.kind !== 'execute') {
    const ids = runbook.cells.filter((c) => c.kind === 'execute').map((c) => c.id);
    throw new UserError(
      `--cell ${options.cell}: not an execute cell of ${file}; use one of: ${ids.join(', ') || '(none)'}`,
    );
  }
  const environment = resolveEnvironment(runbook.header, options.env, parseVarOverrides(options.var ?? []));
  const modeGate = checkModeGate(runbook, environment, options);
  if (!modeGate.allowed) return refuse(modeGate.reason, options);
  if (options.detach) return detach(file, runbook);

  const job = resolveJob(runbook, cell);
  const events = options.events ? fs.openSync(options.events, 'a') : undefined;
  const progress = new ProgressLine(options.progress !== false && !options.json, `run ${cell.id}`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runBackfill({
      runbook,
      job,
      environment,
      mode: modeGate.mode,
      secretValues: process.env,
      operator: defaultOperator(),
      ...(options.restart ? { restart: true } : {}),
      ...(options.only === 'failed' ? { onlyFailed: true } : {}),
      ...(modeGate.mode === 'production'
        ? {
            gate: (fingerprint, ledger) =>
              checkProductionGates(runbook, cell.id, fingerprint, ledger.dryRuns()),
          }
        : {}),
      ...(options.metricsPort !== undefined ? { metricsPort: Number(options.metricsPort) } : {}),
      signal: stop.signal,
      onPlan: (plan) => {
        if (!options.json) process.stdout.write(describePlan(plan, modeGate.mode));
      },
      onEvent: (event) => {
        if (events !== undefined) fs.writeSync(events, JSON.stringify(event) + '\n');
        showProgress(event, progress);
      },
    });
    progress.clear();
    if (result.outcome === 'refused') return refuse(result.reason ?? 'refused', options);
    // The runbook is the record: every run that started, halted ones included, leaves its result block.
    const write =
      options.writeResult === false
        ? undefined
        : await recordRunResult(runbook.file, cell.id, result.status?.run, process.env);
    if (write && !write.written)
      process.stderr.write(`backfill: warning: result not recorded: ${write.reason}\n`);
    if (options.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    } else {
      process.stdout.write(describeResult(result.outcome, result.reason, result.status, file, cell.id));
    }
    return result.exitCode;
  } finally {
    progress.clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (events !== undefined) fs.closeSync(events);
  }
}

function refuse(reason: string, options: RunCommandOptions): number {
  if (options.json) process.stdout.write(JSON.stringify({ outcome: 'refused', reason }) + '\n');
  process.stderr.write(`backfill: refused: ${reason}\n`);
  return ExitCode.refused;
}

function describePlan(plan: RunPlan, mode: string): string {
  const records = plan.total !== undefined ? plan.total.toLocaleString('en-US') : 'all selected';
  return [
    `${mode === 'production' ? 'PRODUCTION run' : 'Run'} ${plan.run}${plan.resumed ? ` (resuming chain ${plan.chain}, ${plan.alreadyDone} records already done)` : ''}`,
    `  Target: ${plan.target}`,
    `  Records: ${records} · rate ${plan.rate}/s · concurrency ${plan.concurrency}` +
      (plan.estimatedSeconds !== undefined ? ` · estimated ${duration(plan.estimatedSeconds)}` : ''),
    `  Stop it with Ctrl-C, backfill control FILE stop, or a halt file; run the same command again to resume.`,
    '',
  ].join('\n');
}

function showProgress(event: RunEvent, progress: ProgressLine): void {
  if (event.type !== 'progress') return;
  const s = event.status;
  const of = s.total !== undefined ? ` of ${s.total}` : '';
  progress.show(
    `${s.done}${of} done · ${s.succeeded} ok · ${s.failed} failed · ${s.rejected} rejected · ` +
      `${s.rate.now}/s · p95 ${s.latencyMs.p95} ms${s.etaSeconds !== undefined ? ` · ETA ${duration(s.etaSeconds)}` : ''}` +
      (s.state === 'paused' ? ' · PAUSED' : ''),
  );
}

function describeResult(
  outcome: string,
  reason: string | undefined,
  status: { succeeded: number; failed: number; rejected: number; skipped: number; done: number } | undefined,
  file: string,
  cell: string,
): string {
  const counts = status
    ? `  ${status.succeeded} succeeded, ${status.failed} failed, ${status.rejected} rejected, ${status.skipped} skipped (done earlier)\n`
    : '';
  const next =
    outcome === 'halted'
      ? `  Halted: ${reason}. Resume with the same command.\n`
      : outcome === 'below-threshold'
        ? `  ${reason}. Re-run the failures: backfill run ${file} --cell ${cell} --execute --only failed\n`
        : '';
  return `Run ${outcome}.\n${counts}${next}`;
}

/** Starts the same run in its own background process, writing to the runbook's state folder. */
function detach(file: string, runbook: Runbook): number {
  const stateDir = stateDirFor(runbook.file);
  fs.mkdirSync(stateDir, { recursive: true });
  const logFile = path.join(stateDir, 'run.log');
  const log = fs.openSync(logFile, 'a');
  const args = process.argv.slice(1).filter((a) => a !== '--detach');
  const child = spawn(process.execPath, [...args, '--no-progress'], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  child.unref();
  fs.closeSync(log);
  process.stdout.write(
    `Started in the background (pid ${child.pid}); output goes to ${logFile}.\n` +
      `Watch it: backfill status ${file} · control it: backfill control ${file} pause|resume|stop|rate N\n`,
  );
  return ExitCode.ok;
}

function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
