/**
 * What a sign-off approves: the plan, hashed. This file cannot depend on the vscode API.
 *
 * A sign-off records `plan: JOBS-CELLS-CHECKLIST`, three short hashes of what the stakeholder saw: every
 * job definition, every execute cell (what the checklist gates: which records, how fast, with which
 * threshold), and the checklist's own items (their text, owners and which are required — never who
 * checked them, so one sign-off does not invalidate another). Parsed values are hashed, not text: a
 * comment or a re-indented line does not invalidate a sign-off; a changed URL, rate or item does, and the
 * part that differs says why.
 *
 * A sign-off made by `backfill sign` or the editor adds a fourth hash, of the runbook, the checklist, the
 * item and the signer: a `checked:` line copied onto another item, or with another `by`, holds nothing.
 */
import { canonicalJson, sha256 } from '../job/fingerprint';
import { checklistItemId, type Cell, type Runbook } from '../format/runbook';

/** The parts of a plan hash, in the order they are written. */
export const PLAN_PARTS = [
  { name: 'jobs', changed: 'the job definitions changed' },
  { name: 'cells', changed: 'the execute cells (subset, throttle or threshold) changed' },
  { name: 'checklist', changed: 'the checklist items changed' },
] as const;

type ChecklistCell = Extract<Cell, { kind: 'checklist' }>;

/** Who signed which item: what the fourth part of a sign-off's plan hash binds it to. */
export interface SignOffBinding {
  item: string;
  by: string;
}

/**
 * The plan hash a sign-off of an item of `checklist` records now: `JOBS-CELLS-CHECKLIST`, and with
 * `binding` `-WHO` (the item and the signer).
 */
export function planHash(runbook: Runbook, checklist: ChecklistCell, binding?: SignOffBinding): string {
  const jobs = runbook.cells.flatMap((cell) =>
    cell.kind === 'job' ? [{ id: cell.id, spec: cell.spec }] : [],
  );
  const cells = runbook.cells.flatMap((cell) =>
    cell.kind === 'execute' ? [{ id: cell.id, spec: cell.spec }] : [],
  );
  const items = checklist.spec.map(({ item, owner, required }, index) => ({
    id: checklistItemId(checklist.spec[index]!),
    item,
    owner,
    required,
  }));
  const plan = [jobs, cells, items].map((part) => sha256(canonicalJson(part)).slice(0, 12)).join('-');
  return binding ? `${plan}-${bindingHash(runbook, checklist, binding)}` : plan;
}

function bindingHash(runbook: Runbook, checklist: ChecklistCell, binding: SignOffBinding): string {
  const bound = { runbook: runbook.header.name, checklist: checklist.id, ...binding };
  return sha256(canonicalJson(bound)).slice(0, 12);
}

/**
 * Whether a recorded plan hash was made for this item and signer: true for one with no binding part
 * (written before sign-offs were bound; the ledger's record still has to match, signOffGate.ts).
 */
export function boundTo(
  recorded: string,
  runbook: Runbook,
  checklist: ChecklistCell,
  binding: SignOffBinding,
): boolean {
  const parts = recorded.split('-');
  return parts.length !== PLAN_PARTS.length + 1 || parts[3] === bindingHash(runbook, checklist, binding);
}

/** Why a recorded plan hash differs from the current one, in words ("the job definitions changed"). */
export function planChanges(recorded: string, current: string): string[] {
  // The binding part (who signed which item) is not the plan: boundTo() checks it.
  const before = recorded.split('-').slice(0, PLAN_PARTS.length + 1);
  const now = current.split('-').slice(0, PLAN_PARTS.length);
  if (before.length < PLAN_PARTS.length) return ['the recorded plan hash is not one backfill wrote'];
  return PLAN_PARTS.flatMap((part, index) => (before[index] === now[index] ? [] : [part.changed]));
}

/** Every checklist cell with the item of id `itemId`. */
export function findChecklistItem(
  runbook: Runbook,
  itemId: string,
  checklistId?: string,
): { cell: ChecklistCell; index: number }[] {
  return runbook.cells.flatMap((cell) => {
    if (cell.kind !== 'checklist' || (checklistId !== undefined && cell.id !== checklistId)) return [];
    const index = cell.spec.findIndex((item) => checklistItemId(item) === itemId);
    return index === -1 ? [] : [{ cell, index }];
  });
}
