/**
 * Signing off one checklist item in a runbook's text: the item gets `checked: { by, at, plan }` (and a
 * `signature` with a key), replacing an earlier sign-off of it; every other byte of the file stays as
 * it was. This file cannot depend on the vscode API.
 */
import { toggleChecklistItem, type SignOffMark } from '../format/checklistEdit';
import { checklistItemId, type Cell, type Runbook } from '../format/runbook';
import { parseRunbookFile, serializeRunbookFile } from '../format/runbookFile';
import { UserError } from '../model/types';
import { findChecklistItem, planHash } from './signOffPlan';
import { signOffMessage, sshSign, sshVerify } from './sshSignature';

type ChecklistCell = Extract<Cell, { kind: 'checklist' }>;

export interface SignOffRequest {
  item: string;
  /** The checklist cell, when the item id alone is ambiguous. */
  checklist?: string;
  by: string;
  /** ISO 8601; now by default. */
  at?: string;
  /** An SSH key file to sign with (`ssh-keygen -Y sign -f`). */
  key?: string;
}

export interface SignOffTarget {
  cell: ChecklistCell;
  index: number;
  itemId: string;
  owner: string;
  text: string;
}

/** The item a request names, or a UserError listing the items there are. */
export function signOffTarget(runbook: Runbook, item: string, checklist?: string): SignOffTarget {
  const found = findChecklistItem(runbook, item, checklist);
  if (found.length === 0) {
    const known = runbook.cells.flatMap((cell) =>
      cell.kind === 'checklist' && (checklist === undefined || cell.id === checklist)
        ? cell.spec.map((i) => `${cell.id}/${checklistItemId(i)}`)
        : [],
    );
    throw new UserError(
      `no checklist item "${item}"${checklist ? ` in checklist ${checklist}` : ''}: use one of: ${known.join(', ') || '(none)'}`,
    );
  }
  if (found.length > 1) {
    throw new UserError(
      `item "${item}" is in several checklists (${found.map((f) => f.cell.id).join(', ')}): add ` +
        found.map((f) => `--checklist ${f.cell.id}`).join(' or '),
    );
  }
  const { cell, index } = found[0]!;
  const spec = cell.spec[index]!;
  return { cell, index, itemId: item, owner: spec.owner, text: spec.item };
}

/**
 * The mark a sign-off records: who, when, the plan now, and with a key its signature — checked
 * against the signer's key in the header when there is one, so a wrong key fails now, not at the gate.
 */
export function signOffMark(runbook: Runbook, target: SignOffTarget, request: SignOffRequest): SignOffMark {
  const mark: SignOffMark = {
    by: request.by,
    at: request.at ?? new Date().toISOString(),
    plan: planHash(runbook, target.cell, { item: target.itemId, by: request.by }),
  };
  if (request.key === undefined) {
    if (runbook.header.requireSignedSignOffs) {
      throw new UserError(
        `${runbook.file} requires signed sign-offs: sign with your SSH key: --key ~/.ssh/id_ed25519`,
      );
    }
    return mark;
  }
  const message = signOffMessage({
    runbook: runbook.header.name,
    checklist: target.cell.id,
    item: target.itemId,
    by: mark.by,
    at: mark.at,
    plan: mark.plan!,
  });
  let signature: string;
  try {
    signature = sshSign(message, request.key);
  } catch (error) {
    throw new UserError((error as Error).message);
  }
  const listed = runbook.header.stakeholders.find((s) => s.name === request.by)?.key;
  if (listed && !sshVerify(message, signature, listed).ok) {
    throw new UserError(
      `${request.key} is not the key the header lists for ${request.by}: sign with that key, or update the header`,
    );
  }
  return { ...mark, signature };
}

/** The runbook text with the item signed off by `mark`, replacing an earlier sign-off of it. */
export function applySignOff(text: string, file: string, target: SignOffTarget, mark: SignOffMark): string {
  const { doc } = parseRunbookFile(text, file);
  const segment = doc?.segments.find((s) => s.type === 'cell' && s.id === target.cell.id);
  if (!doc || !segment || segment.type !== 'cell')
    throw new UserError(`${file}: checklist ${target.cell.id} not found`);
  segment.body = signOffInCell(segment.body, target.itemId, mark);
  return serializeRunbookFile(doc);
}

/**
 * A checklist cell's YAML with item `itemId` signed off by `mark`, replacing an earlier sign-off of it
 * (a stale or hand-typed one, say); every other byte kept.
 */
export function signOffInCell(body: string, itemId: string, mark: SignOffMark): string {
  const toggled = toggleChecklistItem(body, itemId, mark);
  if (!toggled.ok) throw new UserError(toggled.reason);
  if (toggled.checked) return toggled.text;
  const added = toggleChecklistItem(toggled.text, itemId, mark);
  if (!added.ok) throw new UserError(added.reason);
  return added.text;
}
