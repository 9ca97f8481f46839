/**
 * What `backfill run` prints: the plan before the first record, the progress line, and the result with
 * the next command to type. Execution and verification runs read differently; both live here.
 */
import type { Runbook } from '../../core/format/runbook';
import type { RunResult, RunPlan } from '../../core/run/runner';
import { describeDoneElsewhere } from '../../core/run/statusFigures';
import { describeFailureReason } from '../../core/run/failureReasons';
import { describePlannedRecords } from '../../core/run/plannedRecordsText';
import { roundLatency, type RunStatus } from '../../core/run/runStatus';
import { gapResendCell } from '../../core/verify/gaps';
import { duration } from './dryRunText';

/** The plan of a run of the runbook `file`, printed before the first record is sent or checked. */
export function describePlan(plan: RunPlan, mode: string, file: string): string {
  const title =
    plan.kind === 'verify' ? 'Verification run' : mode === 'production' ? 'PRODUCTION run' : 'Run';
  const resumed = plan.resumed
    ? plan.rerun
      ? ` (in chain ${plan.chain})`
      : ` (resuming chain ${plan.chain}, ${plan.alreadyDone} records already done)`
    : '';
  if (plan.rejudge) {
    const { run, outcome, changed } = plan.rejudge;
    return (
      `${title} ${plan.run}: judging run ${run} (${outcome}) again with the cell's thresholds as they are ` +
      `now; nothing is sent\n  Changed: ${changed}\n`
    );
  }
  return [
    `${title} ${plan.run}${resumed}`,
    ...(plan.rerun ? [`  ${describeRerun(plan)}`] : []),
    `  Target: ${plan.target}`,
    `  Records: ${describePlannedRecords(plan)} · rate ${plan.rate}/s · concurrency ${plan.concurrency}` +
      (plan.estimatedSeconds !== undefined ? ` · estimated ${duration(plan.estimatedSeconds)}` : ''),
    `  Stop it with Ctrl-C, backfill control ${file} stop, or a halt file; run the same command again to resume.`,
    '',
  ].join('\n');
}

function describeRerun(plan: RunPlan): string {
  const rerun = plan.rerun!;
  const records = rerun.records.toLocaleString('en-US');
  if (rerun.only === 'failed') return `Re-running the ${records} records that failed`;
  if (plan.kind === 'verify') return `Re-checking the ${records} records the verification did not verify`;
  return `Re-backfilling the ${records} records verification run ${rerun.verification} found mismatched or missing`;
}

/** The one-line progress of a run, refreshed every second. */
export function progressText(status: RunStatus): string {
  const of = status.total !== undefined ? ` of ${status.total}` : '';
  const v = status.verification;
  const counts = v
    ? `${status.done}${of} checked · ${v.verified} verified · ${v.mismatch} mismatch · ${v.missing} missing · ${v.error} error`
    : `${status.done}${of} done · ${status.succeeded} ok · ${status.failed} failed · ${status.rejected} rejected`;
  return (
    `${counts} · ${status.rate.now}/s · p95 ${roundLatency(status.latencyMs).p95} ms` +
    (status.etaSeconds !== undefined ? ` · ETA ${duration(status.etaSeconds)}` : '') +
    (status.state === 'paused' ? ' · PAUSED' : '') +
    (status.waiting ? ` · WAITING ${status.waiting}` : '')
  );
}

/** The result of an execution run and what to do next. */
export function describeResult(result: RunResult, file: string, cell: string, recheckWith?: string): string {
  const { outcome, reason, status } = result;
  if (result.empty) {
    return (
      `Run selected no records: nothing was sent (exit code 1, not a success).\n  ${reason}.\n` +
      `  See what the cell selects: backfill dry-run ${file} --cell ${cell}\n`
    );
  }
  const counts = status ? `  ${describeCounts(status)}\n${describeFailures(status)}` : '';
  const next =
    outcome === 'halted'
      ? `  Halted: ${reason}. Resume with the same command.\n`
      : outcome === 'below-threshold'
        ? `  ${reason}.\n  ${belowThresholdNext(status, file, cell)}\n`
        : recheckWith
          ? `  Re-check them: backfill run ${file} --cell ${recheckWith} --only unverified\n`
          : '';
  const again = result.rejudged
    ? ` (judged again without sending: run ${result.rejudged.run} had ended ${result.rejudged.outcome})`
    : '';
  return `Run ${outcome}${again}.\n${counts}${describeFailed(result, file, cell)}${next}`;
}

/** "  Failures: 50 × connection refused (127.0.0.1:9) — e.g. key 1017", one line per top reason. */
export function describeFailures(status: Pick<RunStatus, 'failures'>): string {
  const failures = status.failures ?? [];
  if (failures.length === 0) return '';
  const [first, ...rest] = failures.map(describeFailureReason);
  return [`  Failures: ${first}`, ...rest.map((line) => `            ${line}`)].join('\n') + '\n';
}

/** The first failed keys with their reasons, and where to find the rest. */
function describeFailed(result: RunResult, file: string, cell: string): string {
  const first = result.firstFailed ?? [];
  if (first.length === 0) return '';
  const failed = result.status?.failed ?? first.length;
  const lines = first.map(({ key, reason }) => `    key ${key}: ${reason}`);
  const all =
    failed > first.length ? `, all ${failed}: backfill ledger ${file} --cell ${cell} --status failed` : '';
  return `  Failed records (first ${first.length}${all}):\n${lines.join('\n')}\n`;
}

/** After a run below its thresholds: re-run the failures, or judge it again once a threshold changed. */
function belowThresholdNext(status: RunStatus | undefined, file: string, cell: string): string {
  const judgeAgain =
    `change successThreshold or maxRejected of cell ${cell} and run the same command: it is judged ` +
    'again, nothing is sent';
  if (status && status.failed === 0) return `To accept it, ${judgeAgain}.`;
  return `Re-run the failures: backfill run ${file} --cell ${cell} --execute --only failed (or ${judgeAgain})`;
}

/** "1975 succeeded, 0 failed, 0 rejected, 0 skipped (done earlier), 20 skipped: done by small-batch". */
function describeCounts(status: RunStatus): string {
  const elsewhere = describeDoneElsewhere(status.doneElsewhere ?? {});
  const byOthers = Object.values(status.doneElsewhere ?? {}).reduce((sum, n) => sum + n, 0);
  const n = (value: number) => value.toLocaleString('en-US');
  return [
    `${n(status.succeeded)} succeeded, ${n(status.failed)} failed, ${n(status.rejected)} rejected`,
    `${n(status.skipped - byOthers)} skipped (done earlier)`,
    ...elsewhere,
  ].join(', ');
}

/** The result of a verification run: counts by category, and how to list and fix the gaps. */
export function describeVerification(result: RunResult, runbook: Runbook, cell: string, job: string): string {
  const { outcome, reason, status } = result;
  const v = status?.verification;
  const n = (value: number) => value.toLocaleString('en-US');
  const counts =
    status && v
      ? `  ${n(v.verified)} verified, ${n(v.mismatch)} mismatch, ${n(v.missing)} missing, ` +
        `${n(v.error)} could not be checked, ${n(status.rejected)} rejected, ` +
        `${n(status.skipped)} skipped (checked earlier)\n${describeFailures(status)}`
      : '';
  if (outcome === 'halted') {
    return `Verification halted.\n${counts}  Halted: ${reason}. Resume with the same command.\n`;
  }
  if (outcome === 'succeeded') return `Verification succeeded: every checked record is verified.\n${counts}`;
  const file = runbook.file;
  const lines = [`Verification found gaps: ${reason}.`, counts.trimEnd()];
  if (v && v.mismatch + v.missing > 0) {
    lines.push(`  List them: backfill ledger ${file} --cell ${cell} --status mismatch (or missing)`);
    const execute = gapResendCell(runbook, job);
    if (execute)
      lines.push(`  Re-backfill them: backfill run ${file} --cell ${execute} --execute --only unverified`);
  }
  lines.push(`  Then re-check them: backfill run ${file} --cell ${cell} --only unverified`);
  return `${lines.join('\n')}\n`;
}
