/**
 * A stakeholder checklist: who owns each item, which are required to go to production, who checked
 * each and when. Pure (no DOM), unit-tested.
 */
import { formatClock, revealInvisible } from './format';
import type { ChecklistPayload } from './payloads';
import type { Tone } from './progressModel';

export interface ChecklistRow {
  id: string;
  label: string;
  owner: string;
  required: boolean;
  checked: boolean;
  /** `checked by ada at 14:02:11`, or who must check it. */
  note: string;
}

export interface ChecklistModel {
  summary: string;
  tone: Tone;
  rows: ChecklistRow[];
}

export function checklistModel(payload: ChecklistPayload, now: Date = new Date()): ChecklistModel {
  const rows = payload.items.map((item) => ({
    id: String(item.id),
    label: revealInvisible(String(item.item ?? '')),
    owner: revealInvisible(item.owner ?? ''),
    required: item.required === true,
    checked: item.checked !== undefined && item.checked !== null,
    note: item.checked
      ? `checked by ${revealInvisible(item.checked.by)} at ${formatClock(item.checked.at, now)}`
      : item.owner
        ? `waiting for ${revealInvisible(item.owner)}`
        : 'not checked',
  }));
  const checked = rows.filter((row) => row.checked).length;
  const openRequired = rows.filter((row) => row.required && !row.checked).length;
  return {
    summary:
      `${checked} of ${rows.length} checked` +
      (openRequired > 0
        ? ` · ${openRequired} required ${openRequired === 1 ? 'item blocks' : 'items block'} production`
        : rows.some((row) => row.required)
          ? ' · every required item is checked'
          : ''),
    tone: openRequired > 0 ? 'warning' : 'success',
    rows,
  };
}
