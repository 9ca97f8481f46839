/**
 * The outputs a cell shows from the runbook file alone: the record of its last real run and last dry run
 * (its result blocks), and a checklist rendered as a checklist. The serializer gives them to every cell
 * when a runbook is opened (outputs are not stored: they are rebuilt from the file), and a dry run keeps
 * the real run's record under its preview, so a dry run never hides the record of a real run. A verify
 * cell shows its verification as the table a live one ends with, from the counts its result block
 * recorded; the controller then adds the records that are not right from the ledger
 * (`showRecordedVerifications`).
 */
import * as vscode from 'vscode';
import { checklistItems } from '../core/format/checklistEdit';
import type { CellMeta } from '../core/format/notebookCells';
import { checklistItemId } from '../core/format/runbook';
import { readResultBody } from '../core/format/resultBlock';
import { isDryRunBody } from '../core/format/resultSlots';
import type { Result } from '../core/format/schemas';
import { cellRecordMarkdown } from '../core/report/cellRecord';
import { endNote } from './endNote';
import { checklistOutput, checklistView } from './outputs';
import { verifyOutput, verifyPayloadFromResult } from './verifyOutput';

/** Output metadata that marks a record output (kept when a notice is added, replaced when rebuilt). */
export const RECORD_OUTPUT = 'backfillRecord';

/** What a cell shows on open: its record, or its checklist. */
export function outputsOnOpen(meta: CellMeta | undefined, value: string): vscode.NotebookCellOutput[] {
  if (!meta || !('id' in meta)) return [];
  if (meta.kind === 'checklist') {
    const read = checklistItems(value);
    return read.ok ? [checklistOutput(checklistView(meta.id, read.items, checklistItemId))] : [];
  }
  const verification = recordedVerification(meta);
  if (verification) {
    const payload = verifyPayloadFromResult(
      verification.cell,
      verification.result,
      endNote(verification.result),
    );
    return [markedAsRecord(verifyOutput(payload))];
  }
  return recordOutputs(meta);
}

/** The verification a verify cell's result block records, if it has one. */
export function recordedVerification(
  meta: CellMeta | undefined,
): { cell: string; result: Result } | undefined {
  if (!meta || !('id' in meta) || meta.kind !== 'verify' || !meta.result) return undefined;
  const result = readResultBody(meta.result.body);
  return result?.mode === 'verify' ? { cell: meta.id, result } : undefined;
}

/** The output, marked as the cell's record (see RECORD_OUTPUT). */
export function markedAsRecord(output: vscode.NotebookCellOutput): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput(output.items, { ...output.metadata, [RECORD_OUTPUT]: true });
}

/** The record of the cell's results; with `realOnly`, only a real run's (shown beside a new dry run). */
export function recordOutputs(meta: CellMeta | undefined, realOnly = false): vscode.NotebookCellOutput[] {
  if (!meta || !('id' in meta) || meta.kind === 'result') return [];
  const real = meta.result && !isDryRunBody(meta.result.body) ? meta.result.body : undefined;
  const record = cellRecordMarkdown(
    realOnly ? { result: real } : { result: meta.result?.body, dryRun: meta.dryRun?.body },
  );
  if (!record) return [];
  // A halted run or one below its threshold says what to do next, naming the action that resumes it.
  const ended = real === undefined ? undefined : readResultBody(real);
  const next = ended && endNote(ended);
  const markdown = next ? `${record}\n\n${next}` : record;
  return [
    new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(markdown, 'text/markdown')], {
      [RECORD_OUTPUT]: true,
    }),
  ];
}
