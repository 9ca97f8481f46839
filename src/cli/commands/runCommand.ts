import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseVarOverrides, resolveEnvironment, type ResolvedEnvironment } from '../../core/job/environment';
import { findCell, type Cell, type Runbook, type RunnableCell } from '../../core/format/runbook';
import type { Result } from '../../core/format/schemas';
import { resolveJob } from '../../core/job/job';
import { recordAttempt } from '../../core/ledger/attempts';
import { stateDirFor } from '../../core/ledger/statePaths';
import {
  checkModeGate,
  checkProductionGates,
  checkVerifyGate,
  gateOfRefusal,
  wantsRealWrite,
} from '../../core/run/gate';
import { recordRunResult } from '../../core/report/recordResult';
import { runBackfill, type RunPlan, type RunResult } from '../../core/run/runner';
import { RefusedError, UserError } from '../../core/model/types';
import { openEventsFile, parseMetricsAddress } from '../cliOptions';
import { ExitCode, exitCodeOfRun } from '../exitCodes';
import { whoIsActing } from '../identity';
import { loadRunbook } from '../loadRunbook';
import { recordedSignOffs } from '../../core/ledger/signOffLedgers';
import { ProgressLine } from '../output/progressLine';
import { describePlan, describeResult, describeVerification, progressText } from '../output/runText';
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
  resendDelivered?: boolean;
  events?: string;
  metricsPort?: string;
  metricsHost?: string;
  detach?: boolean;
  json?: boolean;
  progress?: boolean;
  /** Write the cell's result block into the runbook at the end (default true). */
  writeResult?: boolean;
}

/**
 * `backfill run FILE --cell ID`. An execute cell: a dry run unless --execute (or, for a production
 * environment, --production --confirm NAME) asks for a real write through every gate. A verify cell:
 * a verification, which only reads (a production environment still needs --production).
 */
export async function runCommand(file: string, options: RunCommandOptions): Promise<number> {
  parseMetricsAddress(options);
  const runbook = loadRunbook(file);
  const cell = findCell(runbook, options.cell);
  if (cell?.kind === 'verify') return verifyCell(file, runbook, cell, options);
  if (!wantsRealWrite(options)) {
    process.stderr.write('No --execute: performing a dry run (nothing is sent).\n');
    return dryRunCommand(file, {
      cell: options.cell,
      ...pick(options, ['env', 'var', 'json', 'progress', 'writeResult']),
    });
  }
  checkOnly(options, ['failed', 'unverified']);
  if (!cell || cell.kind !== 'execute') {
    const ids = runbook.cells.filter((c) => c.kind === 'execute' || c.kind === 'verify').map((c) => c.id);
    throw new UserError(
      `--cell ${options.cell}: not an execute or verify cell of ${file}; use one of: ${ids.join(', ') || '(none)'}`,
    );
  }
  const environment = resolveEnvironment(runbook.header, options.env, parseVarOverrides(options.var ?? []));
  const attempt = { runbook, cell: cell.id, environment };
  const modeGate = checkModeGate(runbook, environment, options);
  if (!modeGate.allowed) return refuse(modeGate.reason, options, { ...attempt, gate: modeGate.gate });
  if (options.detach) return detach(file, runbook);
  const recheckWith = runbook.cells.find((c) => c.kind === 'verify' && c.spec.job === cell.spec.job)?.id;
  return performRun(runbook, cell, options, {
    environment,
    mode: modeGate.mode,
    describe: (result) =>
      describeResult(result, file, cell.id, options.only === 'unverified' ? recheckWith : undefined),
  });
}

/** A verification: the cell's check for each record, through the same runner, gates for reading only. */
async function verifyCell(
  file: string,
  runbook: Runbook,
  cell: Extract<Cell, { kind: 'verify' }>,
  options: RunCommandOptions,
): Promise<number> {
  checkOnly(options, ['unverified']);
  if (options.execute) process.stderr.write('Note: a verify cell only reads; --execute changes nothing.\n');
  const environment = resolveEnvironment(runbook.header, options.env, parseVarOverrides(options.var ?? []));
  const gate = checkVerifyGate(runbook, environment, options);
  if (!gate.allowed)
    return refuse(gate.reason, options, { runbook, cell: cell.id, environment, gate: gate.gate });
  if (options.detach) return detach(file, runbook);
  return performRun(runbook, cell, options, {
    environment,
    mode: 'verify',
    describe: (result) => describeVerification(result, runbook, cell.id, cell.spec.job),
  });
}

function checkOnly(options: RunCommandOptions, allowed: string[]): void {
  if (options.only !== undefined && !allowed.includes(options.only)) {
    throw new UserError(
      `--only ${options.only}: use ${allowed.map((only) => `--only ${only}`).join(' or ')}`,
    );
  }
  if (options.restart && options.only)
    throw new UserError(`--restart and --only ${options.only} cannot be combined`);
}

interface RunSetup {
  environment: ResolvedEnvironment;
  mode: 'execute' | 'production' | 'verify';
  /** The result in words, with the next command to type. */
  describe: (result: RunResult) => string;
}

/**
 * Runs the cell in this process: progress, events, signals as stop, the result block, the exit code. A
 * refusal once the run is under way (a gate that reads the ledger, the lock of another run) is recorded
 * as an attempt like one refused up front.
 */
async function performRun(
  runbook: Runbook,
  cell: RunnableCell,
  options: RunCommandOptions,
  setup: RunSetup,
): Promise<number> {
  const attempt = { runbook, cell: cell.id, environment: setup.environment };
  try {
    return await performRunRecorded(runbook, cell, options, setup);
  } catch (error) {
    if (error instanceof RefusedError)
      recordRefusal(error.message, { ...attempt, gate: 'one-run-at-a-time' });
    throw error;
  }
}

async function performRunRecorded(
  runbook: Runbook,
  cell: RunnableCell,
  options: RunCommandOptions,
  setup: RunSetup,
): Promise<number> {
  const job = resolveJob(runbook, cell);
  const metrics = parseMetricsAddress(options);
  const events = openEventsFile(options.events);
  const progress = new ProgressLine(options.progress !== false && !options.json, `run ${cell.id}`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The run's result block, handed over from the ledger the run holds, written once the lock is released.
  let cellResult: Result | undefined;
  let announced: RunPlan | undefined;
  try {
    const result = await runBackfill({
      runbook,
      job,
      environment: setup.environment,
      mode: setup.mode,
      secretValues: process.env,
      operator: whoIsActing(runbook.file),
      ...(options.restart ? { restart: true } : {}),
      ...(options.resendDelivered ? { resendDelivered: true } : {}),
      ...(options.only === 'failed' ? { onlyFailed: true } : {}),
      ...(options.only === 'unverified' ? { onlyUnverified: true } : {}),
      ...(setup.mode === 'production'
        ? {
            gate: async (fingerprint, ledger) =>
              checkProductionGates(
                runbook,
                cell.id,
                fingerprint,
                await ledger.dryRuns(),
                setup.environment.name,
                await recordedSignOffs(runbook, setup.environment, ledger, () => process.env),
              ),
          }
        : {}),
      ...(metrics !== undefined ? { metrics } : {}),
      signal: stop.signal,
      onPlan: (plan) => {
        announced = plan;
        if (!options.json) process.stdout.write(describePlan(plan, setup.mode, runbook.file));
      },
      onResult: (ended) => (cellResult = ended),
      onEvent: (event) => {
        if (events !== undefined) fs.writeSync(events, JSON.stringify(event) + '\n');
        if (event.type === 'progress') progress.show(progressText(event.status));
      },
    });
    progress.clear();
    if (result.outcome === 'refused') {
      const reason = result.reason ?? 'refused';
      return refuse(reason, options, {
        runbook,
        cell: cell.id,
        environment: setup.environment,
        gate: gateOfRefusal(reason),
      });
    }
    // The runbook is the record: every run that started, halted ones included, leaves its result block.
    const write =
      options.writeResult === false
        ? undefined
        : recordRunResult(runbook.file, cell.id, cellResult, process.env);
    if (write && !write.written)
      process.stderr.write(`backfill: warning: result not recorded: ${write.reason}\n`);
    const exitCode = exitCodeOfRun(result.outcome);
    if (options.json) {
      const plan = announced ? { plan: announced } : {};
      process.stdout.write(JSON.stringify({ ...result, ...plan, exitCode }, null, 2) + '\n');
    } else {
      process.stdout.write(setup.describe(result));
    }
    return exitCode;
  } finally {
    progress.clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (events !== undefined) fs.closeSync(events);
  }
}

/** What a refused attempt is recorded with, besides its reason. */
interface RefusedAttempt {
  runbook: Runbook;
  cell: string;
  environment: ResolvedEnvironment;
  gate: string;
}

function refuse(reason: string, options: RunCommandOptions, attempt: RefusedAttempt): number {
  recordRefusal(reason, attempt);
  if (options.json) process.stdout.write(JSON.stringify({ outcome: 'refused', reason }) + '\n');
  process.stderr.write(`backfill: refused: ${reason}\n`);
  return ExitCode.refused;
}

/**
 * A refused real run (or verification) is on record like one refused in the editor: who, when, which
 * cell, environment and gate, in the state folder's attempts file, which the report lists. A failure to
 * record never hides the refusal itself.
 */
function recordRefusal(reason: string, attempt: RefusedAttempt): void {
  try {
    recordAttempt(stateDirFor(attempt.runbook.file), {
      at: new Date().toISOString(),
      operator: whoIsActing(attempt.runbook.file),
      cell: attempt.cell,
      environment: attempt.environment.name,
      production: attempt.environment.production,
      outcome: 'refused',
      gate: attempt.gate,
      reason,
    });
  } catch (error) {
    process.stderr.write(`backfill: warning: the refusal was not recorded: ${(error as Error).message}\n`);
  }
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
