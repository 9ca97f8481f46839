/**
 * A stakeholder checklist: who owns each item, which are required to go to production, who checked
 * each and when — and which sign-offs do not hold (the extension asks the core and says why): such an
 * item shows unchecked, with the reason and what to do. Pure (no DOM), unit-tested.
 */
import { formatClock, revealInvisible } from './format';
import type { ChecklistPayload } from './payloads';
import type { Tone } from './progressModel';

export interface ChecklistRow {
  id: string;
  label: string;
  owner: string;
  required: boolean;
  /** Signed off, and the sign-off holds. */
  checked: boolean;
  /** A sign-off is written down but does not hold. */
  unheld: boolean;
  /** `checked by ada at 14:02:11`, who must check it, or why a sign-off does not hold and what to do. */
  note: string;
}

export interface ChecklistModel {
  summary: string;
  tone: Tone;
  rows: ChecklistRow[];
}

export function checklistModel(payload: ChecklistPayload, now: Date = new Date()): ChecklistModel {
  const rows = payload.items.map((item) => {
    const signed = item.checked !== undefined && item.checked !== null;
    const problem = signed && typeof item.problem === 'string' ? item.problem : undefined;
    const by = signed ? `${revealInvisible(item.checked!.by)} at ${formatClock(item.checked!.at, now)}` : '';
    return {
      id: String(item.id),
      label: revealInvisible(String(item.item ?? '')),
      owner: revealInvisible(item.owner ?? ''),
      required: item.required === true,
      checked: signed && problem === undefined,
      unheld: problem !== undefined,
      note:
        problem !== undefined
          ? `signed off by ${by}, but it does not hold: ${revealInvisible(problem)} — or check the box to sign it again`
          : signed
            ? `checked by ${by}`
            : item.owner
              ? `waiting for ${revealInvisible(item.owner)}`
              : 'not checked',
    };
  });
  const checked = rows.filter((row) => row.checked).length;
  const unheld = rows.filter((row) => row.unheld).length;
  const openRequired = rows.filter((row) => row.required && !row.checked).length;
  return {
    summary:
      `${checked} of ${rows.length} checked` +
      (unheld > 0 ? ` · ${unheld} sign-off${unheld === 1 ? ' does' : 's do'} not hold` : '') +
      (openRequired > 0
        ? ` · ${openRequired} required ${openRequired === 1 ? 'item blocks' : 'items block'} production`
        : rows.some((row) => row.required)
          ? ' · every required item is checked'
          : ''),
    tone: openRequired > 0 || unheld > 0 ? 'warning' : 'success',
    rows,
  };
}
