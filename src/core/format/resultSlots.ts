/**
 * A runbook is a record: nothing a dry run does may erase the record of a real run. So a cell keeps two
 * result blocks, one rule for both writers (the command line and the extension):
 *
 *     ```result for=full            ← the last real run (execute, production, verify)
 *     ```result for=full mode=dry-run  ← the last dry run, once the cell has a real run
 *
 * A cell that was only ever dry-run has one block, `result for=ID`, holding the dry run (as files written
 * before this rule do). A real run takes that block over and moves the dry run it held to the dry-run
 * block; a dry run after a real run lands in the dry-run block. Refused and cancelled attempts write no
 * block at all (they are recorded beside the ledger, see ../ledger/attempts.ts).
 *
 * This folder cannot depend on the vscode API.
 */
import { UserError } from '../model/types';
import { cellsToRunbook, runbookToCells, type CellMeta, type Eol, type ResultText } from './notebookCells';
import { renderResultBody } from './resultBlock';
import { parseRunbookFile, renderFence } from './runbookFile';
import type { Result } from './schemas';

/** Whether a result block's YAML body records a dry run. */
export function isDryRunBody(body: string): boolean {
  return /^mode:\s*["']?dry-run["']?\s*(?:#.*)?$/m.test(body);
}

/** The cell's metadata with `result` placed in the block it belongs to (see the rule above). */
export function withRunResult(meta: CellMeta, result: Result, eol: Eol): CellMeta {
  if (!('id' in meta) || meta.kind === 'result') return meta;
  const { id, result: main, dryRun, ...rest } = meta;
  const body = renderResultBody(result, eol);
  const slots: { result?: ResultText; dryRun?: ResultText } = {};
  if (result.mode === 'dry-run') {
    if (!main || isDryRunBody(main.body)) slots.result = block(id, false, body, eol, main?.gap);
    else {
      slots.result = main;
      slots.dryRun = block(id, true, body, eol, dryRun?.gap);
    }
  } else {
    slots.result = block(id, false, body, eol, main?.gap);
    const previousDryRun = main && isDryRunBody(main.body) ? main : dryRun;
    if (previousDryRun) slots.dryRun = block(id, true, previousDryRun.body, eol, previousDryRun.gap);
  }
  return { ...rest, id, ...slots } as CellMeta;
}

/**
 * Returns `text` with the result of cell `cellId` placed by the rule above; every other byte unchanged.
 * Throws a UserError when the document cannot be split into cells or has no such cell.
 */
export function setRunResult(text: string, cellId: string, result: Result): string {
  const { doc, issues } = parseRunbookFile(text, 'runbook');
  if (!doc) {
    throw new UserError(`the runbook cannot be read as cells (${issues[0]?.message ?? 'unknown problem'})`);
  }
  const { cells, eol } = runbookToCells(text);
  const index = cells.findIndex(
    (cell) => cell.meta && 'id' in cell.meta && cell.meta.kind !== 'result' && cell.meta.id === cellId,
  );
  if (index === -1) throw new UserError(`the runbook has no cell with id=${cellId} any more`);
  const cell = cells[index]!;
  const updated = [...cells];
  const meta = withRunResult(cell.meta!, result, eol);
  // A block written right before the next cell's text gets a blank line after it, so on a code host the
  // fence never runs into the prose that follows.
  const runsIntoNext = index < cells.length - 1 && 'trailing' in meta && meta.trailing === '';
  updated[index] = { ...cell, meta: runsIntoNext ? { ...meta, trailing: eol } : meta };
  return cellsToRunbook(updated, eol).text;
}

function block(id: string, dry: boolean, body: string, eol: Eol, gap: string = eol): ResultText {
  const text = renderFence(`result for=${id}${dry ? ' mode=dry-run' : ''}`, body, eol);
  const firstBreak = text.indexOf('\n') + 1;
  const lastLine = text.lastIndexOf('\n', text.length - 2) + 1;
  return {
    gap,
    open: text.slice(0, firstBreak),
    body: text.slice(firstBreak, lastLine),
    close: text.slice(lastLine),
  };
}
