/**
 * Checking and unchecking one item of a checklist cell by editing its YAML as little as possible: the
 * `checked: { by, at }` line is added under the item, or removed, and every other byte stays as the
 * author wrote it (comments, quoting, order), so a sign-off is a one-line diff in review.
 */
import { isMap, isSeq, parseDocument, type Pair, type YAMLMap } from 'yaml';
import { ChecklistCellSchema, type ChecklistItem } from './schemas';
import { checklistItemId } from './runbook';

export interface SignOffMark {
  by: string;
  /** ISO 8601 time. */
  at: string;
  /** The plan hash the sign-off approves (core/signoff/signOffPlan.ts). */
  plan?: string;
  /** An SSH signature of the sign-off, base64 on one line (core/signoff/sshSignature.ts). */
  signature?: string;
}

/** The `checked` value written for a mark: its fields in a fixed order, absent ones left out. */
function checkedValue(mark: SignOffMark): Record<string, string> {
  const { by, at, plan, signature } = mark;
  return { by, at, ...(plan ? { plan } : {}), ...(signature ? { signature } : {}) };
}

export type ChecklistToggle =
  { ok: true; text: string; checked: boolean; item: ChecklistItem } | { ok: false; reason: string };

/** The items of a checklist cell body, or why it cannot be read. */
export function checklistItems(
  body: string,
): { ok: true; items: ChecklistItem[] } | { ok: false; reason: string } {
  const doc = parseDocument(body);
  if (doc.errors.length > 0)
    return { ok: false, reason: `the checklist is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` };
  const parsed = ChecklistCellSchema.safeParse(doc.toJS() ?? []);
  if (!parsed.success)
    return { ok: false, reason: 'the checklist has invalid items: fix the problems shown in the cell' };
  return { ok: true, items: parsed.data };
}

/**
 * Flips item `itemId` of a checklist body: adds `checked: { by, at }` when it is unchecked, removes its
 * `checked` when it is checked.
 */
export function toggleChecklistItem(body: string, itemId: string, mark: SignOffMark): ChecklistToggle {
  const read = checklistItems(body);
  if (!read.ok) return read;
  const index = read.items.findIndex((item) => checklistItemId(item) === itemId);
  if (index === -1) {
    const known = read.items.map(checklistItemId).join(', ') || '(none)';
    return { ok: false, reason: `no checklist item "${itemId}": use one of: ${known}` };
  }
  const item = read.items[index]!;
  const doc = parseDocument(body);
  const node = isSeq(doc.contents) ? doc.contents.items[index] : undefined;
  const checked = !item.checked;
  const text = isMap(node) && !node.flow ? editBlockMap(body, node, checked, mark) : undefined;
  if (text !== undefined) return { ok: true, text, checked, item };
  // A flow mapping (`- { item: …, owner: … }`): rewritten by the YAML library, comments kept.
  if (checked) doc.setIn([index, 'checked'], doc.createNode(checkedValue(mark), { flow: true }));
  else doc.deleteIn([index, 'checked']);
  return { ok: true, text: doc.toString(), checked, item };
}

function editBlockMap(body: string, map: YAMLMap, checked: boolean, mark: SignOffMark): string | undefined {
  const pairs = map.items as Pair[];
  const existing = pairs.find((pair) => keyName(pair) === 'checked');
  if (!checked) {
    if (!existing) return body;
    const start = lineStart(body, rangeOf(existing.key)?.[0]);
    const end = lineEnd(body, rangeOf(existing.value)?.[1] ?? rangeOf(existing.key)?.[1]);
    if (start === undefined || end === undefined) return undefined;
    // The last line of a body without a final line break: take the line break before it instead.
    const from = end === body.length && !body.endsWith('\n') ? body.lastIndexOf('\n', start - 1) : start;
    return body.slice(0, Math.max(from, 0)) + body.slice(end);
  }
  const first = rangeOf(pairs[0]?.key)?.[0];
  const last = pairs[pairs.length - 1];
  const after = lineEnd(body, rangeOf(last?.value)?.[1] ?? rangeOf(last?.key)?.[1]);
  if (first === undefined || after === undefined) return undefined;
  const indent = first - (lineStart(body, first) ?? first);
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const fields = Object.entries(checkedValue(mark)).map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
  const line = `${' '.repeat(indent)}checked: { ${fields.join(', ')} }`;
  const before = body.slice(0, after);
  const needsBreak = before !== '' && !before.endsWith('\n');
  return before + (needsBreak ? eol : '') + line + (needsBreak ? '' : eol) + body.slice(after);
}

function keyName(pair: Pair): unknown {
  const key = pair.key as { value?: unknown } | null;
  return key?.value;
}

function rangeOf(node: unknown): [number, number, number] | undefined {
  return (node as { range?: [number, number, number] } | null)?.range ?? undefined;
}

function lineStart(text: string, offset: number | undefined): number | undefined {
  if (offset === undefined) return undefined;
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just past the line break of the line holding `offset` (or the end of the text). */
function lineEnd(text: string, offset: number | undefined): number | undefined {
  if (offset === undefined) return undefined;
  const probe = Math.max(offset - 1, 0);
  const end = text.indexOf('\n', probe);
  return end === -1 ? text.length : end + 1;
}
