/**
 * What a cell shows when its run ends — finished, halted, refused by a gate, or gone — and the result
 * summary it records (in the cell's metadata; see cellResults.ts). Refusals say which gate refused and
 * how to satisfy it.
 */
import * as vscode from 'vscode';
import { ExitCode } from '../cli/exitCodes';
import type { Ledger } from '../core/ledger/ledger';
import { resultOfRun } from '../core/run/cellResult';
import type { RunStatus } from '../core/run/runStatus';
import { inProduction } from '../core/run/statusFigures';
import type { Redactor } from '../core/secrets/secrets';
import { setCellResult } from './cellResults';
import { endNote } from './endNote';
import { cellId } from './notebookDocument';
import { errorOutput, progressOutput, textOutput } from './outputs';
import { resumeAction } from './realRunAction';
import type { RunEndOutputs } from './runAttachment';
import type { RunEnd, LiveRun } from './runMonitor';
import { verifyOutput, verifyPayloadFromLedger } from './verifyOutput';

export async function concludeRun(
  end: RunEnd,
  cell: vscode.NotebookCell,
  monitor: LiveRun,
  redactor: Redactor,
): Promise<RunEndOutputs> {
  const id = cellId(cell) ?? monitor.cell;
  if (end.kind === 'exited')
    return exitedEarly(end.exit.exitCode, end.exit.result?.reason, end.exit.log, redactor);
  if (end.kind === 'vanished') {
    const outputs = [
      ...(monitor.progress ? [progressOutput(redactor.redactValue(monitor.progress))] : []),
      errorOutput(
        'Run ended without finishing',
        'The runner process is gone (killed or crashed) without a final status.',
        `Nothing is lost: every finished record is checkpointed. Run the cell again (${resumeAction(monitor.progress?.status.mode)}) to resume; ` +
          'records that were in flight are sent again with the same idempotency key.',
      ),
    ];
    return { success: false, outputs };
  }
  const status = end.status;
  const view = monitor.progress ?? { status, history: [], marks: [] };
  const note = endNote(status);
  const recorded = await recordResult(monitor, id, status, cell.notebook, redactor, note);
  // A verification ends as one output: its table, with the note in it (no progress view beside it).
  if (recorded.verify) return { success: status.outcome === 'succeeded', outputs: [recorded.verify] };
  const outputs = [progressOutput(redactor.redactValue(view)), ...(note ? [textOutput(note)] : [])];
  return { success: status.outcome === 'succeeded', outputs };
}

/**
 * The runner exited before writing a final status: a refusal, invalid input, or a crash at start. A
 * refusal (exit 4) is a notice under the cell's earlier outputs, not a failed run; the runner recorded
 * the attempt (attempts.jsonl) before it exited.
 */
function exitedEarly(
  exitCode: number | null,
  reason: string | undefined,
  log: string,
  redactor: Redactor,
): RunEndOutputs {
  const text = redactor.redact(reason ?? lastErrorLines(log));
  if (exitCode === ExitCode.refused) {
    const refusal = describeRefusal(text);
    vscode.window.setStatusBarMessage(
      `$(circle-slash) Backfill: refused by the ${refusal.gate} gate — nothing was sent.`,
      15_000,
    );
    return { notice: errorOutput(`Refused by the ${refusal.gate} gate`, text, refusal.next) };
  }
  const title = exitCode === ExitCode.invalid ? 'Cannot run' : 'Run failed';
  return {
    success: false,
    outputs: [errorOutput(title, text || `the runner exited with code ${exitCode ?? 'unknown'}`)],
  };
}

/** Which gate refused, and how to satisfy it, from the refusal's words. */
export function describeRefusal(reason: string): { gate: string; next: string } {
  if (/checklist/i.test(reason)) {
    return {
      gate: 'checklist',
      next:
        "Have each required item's owner check it in the runbook's checklist cell (click it, or Backfill: Check " +
        'or Uncheck a Checklist Item), save the runbook, and run again.',
    };
  }
  if (/dry run/i.test(reason)) {
    return {
      gate: 'dry-run',
      next: 'Dry-run the cell (▶) in this environment; once it passes for the current job and data, run again.',
    };
  }
  if (/lock|already running|another/i.test(reason)) {
    return {
      gate: 'one-run-at-a-time',
      next: 'Another run of this runbook holds its lock: wait for it to end or stop it (Backfill: Stop).',
    };
  }
  if (/halt file/i.test(reason)) return { gate: 'halt-file', next: 'Remove the halt file, then run again.' };
  return {
    gate: 'confirmation',
    next: "A production run needs the runbook's name typed in the confirmation: use Run in Production….",
  };
}

function lastErrorLines(log: string): string {
  const lines = log.trim().split('\n');
  const errors = lines.filter((line) => line.startsWith('backfill:'));
  return (errors.length > 0 ? errors.slice(-3) : lines.slice(-5)).join('\n');
}

async function recordResult(
  monitor: LiveRun,
  id: string,
  status: RunStatus,
  notebook: vscode.NotebookDocument,
  redactor: Redactor,
  note?: string,
): Promise<{ verify?: vscode.NotebookCellOutput }> {
  let ledger: Ledger | undefined;
  try {
    ledger = await monitor.openLedger();
    const run = (await ledger.runs(status.cell)).find((r) => r.id === status.run);
    if (run) await setCellResult(notebook, id, await resultOfRun(ledger, run), redactor);
    if (status.mode !== 'verify') return {};
    return {
      verify: verifyOutput(
        redactor.redactValue(
          await verifyPayloadFromLedger(
            ledger,
            status,
            note,
            inProduction(status) ? status.environment : undefined,
          ),
        ),
      ),
    };
  } catch (error) {
    void vscode.window.showWarningMessage(
      `Backfill: the run ended, but its result could not be read from the ledger: ${(error as Error).message}`,
    );
    return {};
  } finally {
    await ledger?.close();
  }
}
