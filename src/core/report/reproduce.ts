/**
 * Steps to reproduce: the exact `backfill` commands behind every dry run and run, rebuilt from what the
 * ledger recorded (cell, environment, mode, flags, the variables that differed from the runbook's).
 * Commands name the runbook by its file name: they are run from the runbook's folder.
 */
import * as path from 'node:path';
import type { Runbook } from '../format/runbook';
import { onlyFlag, shortId, varOverrides } from './history';
import type { RunReport } from './runReport';

export interface ReproduceStep {
  command: string;
  /** What the command did, in words. */
  note: string;
}

/** Check, then every dry run and run in the order they happened, then the report. */
export function reproduceSteps(runs: RunReport[], runbook: Runbook): ReproduceStep[] {
  const file = path.basename(runbook.file);
  const steps: ReproduceStep[] = [{ command: `backfill check ${quote(file)}`, note: 'validate the runbook' }];
  const seenChains = new Set<string>();
  for (const run of runs) {
    const resumed = run.chain !== undefined && seenChains.has(run.chain) && !onlyFlag(run);
    if (run.chain) seenChains.add(run.chain);
    steps.push({ command: commandFor(run, runs, runbook, file), note: noteFor(run, resumed) });
  }
  steps.push({ command: `backfill report ${quote(file)} --format html`, note: 'this report' });
  return steps;
}

function commandFor(run: RunReport, runs: RunReport[], runbook: Runbook, file: string): string {
  const args = [run.kind === 'dry-run' ? 'dry-run' : 'run', file, '--cell', run.cell];
  if (run.environment) args.push('--env', run.environment);
  for (const [name, value] of Object.entries(overridesOf(run, runs, runbook)))
    args.push('--var', `${name}=${value}`);
  if (run.kind === 'execute') args.push('--execute');
  if (run.kind === 'production') args.push('--production', '--confirm', runbook.header.name);
  // A verification only reads, but reading a production environment still takes --production.
  if (run.kind === 'verify' && runbook.header.environments[run.environment]?.production) {
    args.push('--production');
  }
  if (run.params.restart) args.push('--restart');
  const only = onlyFlag(run);
  if (only) args.push('--only', only);
  return ['backfill', ...args.map(quote)].join(' ');
}

/**
 * A dry run does not record its variables, but its fingerprint covers them: a run with the same
 * fingerprint used exactly the same ones.
 */
function overridesOf(run: RunReport, runs: RunReport[], runbook: Runbook): Record<string, string> {
  if (run.kind !== 'dry-run') return varOverrides(run, runbook);
  const twin = runs.find((other) => other.kind !== 'dry-run' && other.fingerprint === run.fingerprint);
  return twin ? varOverrides(twin, runbook) : {};
}

function noteFor(run: RunReport, resumed: boolean): string {
  const outcome = `${run.outcome}${run.reason ? `: ${run.reason}` : ''}`;
  if (run.kind === 'dry-run') return `dry run (sends nothing) — ${outcome}`;
  const only = onlyFlag(run);
  const what = only
    ? `${run.kind} run ${shortId(run.id)}: exactly the ${only} records again`
    : resumed
      ? `${run.kind} run ${shortId(run.id)} resumes the chain (the same command again)`
      : `${run.kind} run ${shortId(run.id)}`;
  return `${what} — ${outcome}`;
}

/** Quotes an argument for a POSIX shell when it holds anything but plainly safe characters. */
export function quote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
