/**
 * The safety gates in front of a real write. Dry run is the default; a real write needs --execute, and
 * a production environment needs --production --confirm NAME instead, every required checklist item
 * checked, and a passing dry run of the same job definition on the same source data.
 *
 * A verification only reads, so it needs none of that — except that reading a production environment
 * (with the check's load on it) still takes an explicit --production.
 */
import type { ResolvedEnvironment } from '../job/environment';
import type { JobFingerprint } from '../job/fingerprint';
import { checklistItemId, type Runbook } from '../format/runbook';
import type { DryRunRow } from '../ledger/ledger';
import type { SignOff } from '../model/runs';
import { signOffProblems } from '../signoff/signOffGate';

export interface RunFlags {
  execute?: boolean;
  production?: boolean;
  confirm?: string;
}

export type GateName = 'mode' | 'confirmation' | 'checklist' | 'dry-run';

export type GateDecision =
  | { allowed: true; mode: 'execute' | 'production' | 'verify' }
  | { allowed: false; gate: GateName; reason: string };

/** Decides whether flags ask for a real write at all (false: the command performs a dry run). */
export function wantsRealWrite(flags: RunFlags): boolean {
  return !!(flags.execute || flags.production);
}

/** Flag-level gates, checked before anything is read. */
export function checkModeGate(
  runbook: Runbook,
  environment: ResolvedEnvironment,
  flags: RunFlags,
): GateDecision {
  const name = runbook.header.name;
  if (!environment.production) {
    if (flags.production) {
      return refused(
        'mode',
        `environment ${environment.name} is not marked production: use --execute for it`,
      );
    }
    return { allowed: true, mode: 'execute' };
  }
  if (!flags.production) {
    return refused(
      'confirmation',
      `environment ${environment.name} is production: a real run needs --production --confirm ${name}`,
    );
  }
  if (flags.confirm !== name) {
    return refused(
      'confirmation',
      flags.confirm === undefined
        ? `a production run needs --confirm ${name} (the runbook's name)`
        : `--confirm "${flags.confirm}" does not match the runbook's name: type --confirm ${name}`,
    );
  }
  return { allowed: true, mode: 'production' };
}

/**
 * The gate in front of a verification. It writes nothing, so there is no --execute, no typed
 * confirmation, no checklist and no dry run to require; but its checks do load the target, so a
 * production environment is only read with --production, never by accident. A --confirm that is given
 * must still match, so a wrong runbook is not verified by mistake.
 */
export function checkVerifyGate(
  runbook: Runbook,
  environment: ResolvedEnvironment,
  flags: RunFlags,
): GateDecision {
  const name = runbook.header.name;
  if (!environment.production && flags.production) {
    return refused('mode', `environment ${environment.name} is not marked production: drop --production`);
  }
  if (environment.production && !flags.production) {
    return refused(
      'confirmation',
      `environment ${environment.name} is production: verifying it needs --production ` +
        '(a verification only reads, so no --confirm is needed)',
    );
  }
  if (flags.confirm !== undefined && flags.confirm !== name) {
    return refused('confirmation', `--confirm "${flags.confirm}" does not match the runbook's name ${name}`);
  }
  return { allowed: true, mode: 'verify' };
}

/**
 * Gates that need the runbook's state: the required sign-offs (checked, for the plan as it is now, and
 * signed when the runbook requires it) and a passing dry run with the same fingerprint. `environment` is
 * the one the run uses, named in the command to type.
 */
export function checkProductionGates(
  runbook: Runbook,
  cellId: string,
  fingerprint: JobFingerprint,
  dryRuns: DryRunRow[],
  environment: string,
  signOffs: readonly SignOff[],
): GateDecision {
  const unheld = signOffGateReason(runbook, signOffs);
  if (unheld) return refused('checklist', unheld);
  if (dryRuns.some((row) => row.passed && row.fingerprint === fingerprint.combined)) {
    return { allowed: true, mode: 'production' };
  }
  const next = `run: backfill dry-run ${runbook.file} --cell ${cellId} --env ${environment}`;
  const cell = runbook.cells.find((c) => c.id === cellId);
  const job = cell && 'job' in cell.spec ? cell.spec.job : undefined;
  const passed = dryRuns.filter((row) => row.passed && (job === undefined || row.job === job));
  const here = passed.filter((row) => row.environment === environment);
  const latest = here.find((row) => row.cell === cellId) ?? here[0];
  if (!latest) {
    const elsewhere = passed[0]?.environment;
    return refused(
      'dry-run',
      elsewhere
        ? `the only passing dry run of this job was in ${elsewhere}: dry-run it in ${environment}: ${next}`
        : `no passing dry run of this job exists: ${next}`,
    );
  }
  const what =
    latest.definitionHash !== fingerprint.definition
      ? 'the job definition (source, action or environment) changed'
      : 'the source data changed';
  return refused('dry-run', `${what} since the last passing dry run (${latest.startedAt}): ${next}`);
}

/**
 * Why the required sign-offs do not open the production gate (unchecked items, then sign-offs that do
 * not hold, each located), or undefined when they all hold. `recorded`: the ledger's sign-offs, which
 * a sign-off without a verified signature must be among (signOffGate.ts).
 */
export function signOffGateReason(runbook: Runbook, recorded?: readonly SignOff[]): string | undefined {
  const problems = signOffProblems(runbook, recorded);
  if (problems.length === 0) return undefined;
  const unchecked = problems.filter((problem) => problem.kind === 'unchecked');
  const stale = problems.filter((problem) => problem.kind !== 'unchecked');
  const parts = [
    ...(unchecked.length > 0
      ? [
          `required checklist items are not checked: ${unchecked
            .map((p) => `${p.checklist}: "${itemText(runbook, p.checklist, p.item)}" (owner ${p.owner})`)
            .join('; ')} — have their owners sign them: ${unchecked
            .map((p) => `backfill sign ${runbook.file} --item ${p.item}`)
            .join('; ')}`,
        ]
      : []),
    ...(stale.length > 0
      ? [`sign-offs that do not hold:\n${stale.map((p) => `  ${p.message}`).join('\n')}`]
      : []),
  ];
  return parts.join('\n');
}

function itemText(runbook: Runbook, checklist: string, itemId: string): string {
  for (const cell of runbook.cells) {
    if (cell.kind !== 'checklist' || cell.id !== checklist) continue;
    const item = cell.spec.find((i) => checklistItemId(i) === itemId);
    if (item) return item.item;
  }
  return itemId;
}

/**
 * The gate a run's refusal names (`refused by the checklist gate: …`, see resumePlanLoader.ts), for the
 * record of the attempt; `resume` for a refusal of the run's own plan (a chain that cannot be resumed as
 * asked, a worker with nothing to join).
 */
export function gateOfRefusal(reason: string): string {
  return /refused by the ([\w-]+) gate/.exec(reason)?.[1] ?? 'resume';
}

function refused(gate: GateName, reason: string): GateDecision {
  return { allowed: false, gate, reason };
}
