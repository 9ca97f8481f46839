/**
 * Keeps the DOM small whatever the size of the run: long lists are capped with a count of the rest, and
 * errors are counts per kind, never one node per failed record. Pure: no DOM, unit-tested.
 */
import type { ErrorKind } from '../../src/core/model/runs';
import { formatCount } from './format';

/** How many rows of a record list (rejected, duplicates, verification samples) a view shows. */
export const LIST_CAP = 20;

export interface CappedList<T> {
  shown: T[];
  /** Records not shown: the rest of the list, plus those the report counted but did not list. */
  more: number;
}

/**
 * The first `cap` items; `more` counts everything else, using `total` when the producer listed fewer
 * records than it counted (a dry run lists 100 rejected records but counts all of them).
 */
export function capList<T>(
  items: readonly T[] | undefined,
  total: number | undefined,
  cap = LIST_CAP,
): CappedList<T> {
  const list = items ?? [];
  const shown = list.slice(0, cap);
  const counted = Math.max(list.length, Number.isFinite(total) ? (total as number) : 0);
  return { shown, more: counted - shown.length };
}

/** `and 1,234 more` — or nothing when the list is complete. */
export function moreText(more: number, what = 'more'): string {
  return more > 0 ? `and ${formatCount(more)} ${what}` : '';
}

export interface ErrorKindRow {
  kind: string;
  label: string;
  count: number;
  /** Share of all errors, 0–1, for the row's bar. */
  share: number;
}

const ERROR_KIND_LABELS: Record<ErrorKind, string> = {
  'http-4xx': 'HTTP 4xx',
  'http-429': 'HTTP 429 — throttled',
  'http-5xx': 'HTTP 5xx',
  timeout: 'Timeout',
  connection: 'Connection failed',
  'command-exit': 'Command exited non-zero',
  'handler-error': 'Handler threw',
  render: 'Could not render',
  other: 'Other',
};

/** Errors by kind, most frequent first (ties by label, so rows do not swap places between updates). */
export function errorKindRows(errorsByKind: Partial<Record<string, number>> | undefined): ErrorKindRow[] {
  const entries = Object.entries(errorsByKind ?? {}).filter(
    (entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] > 0,
  );
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  return entries
    .map(([kind, count]) => ({ kind, label: errorKindLabel(kind), count, share: count / total }))
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

export function errorKindLabel(kind: string): string {
  return (ERROR_KIND_LABELS as Record<string, string>)[kind] ?? kind;
}
