/** Small formatting helpers shared by the report, the Markdown report and the announcement. */
import { humanDuration } from '../format/resultBlock';

export { humanDuration };

/** 12345 → "12,345"; 3.14159 → "3.14". */
export function formatNumber(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/**
 * An ISO time as "2026-11-05 10:00:01 UTC" (without " UTC" where a column header says it); text that
 * is not a time is shown as written.
 */
export function formatTime(iso: string | undefined, options: { zone?: boolean } = {}): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const time = new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
  return options.zone === false ? time : `${time} UTC`;
}

/** Duration in words, or a dash when unknown. */
export function formatDuration(ms: number | undefined): string {
  return ms === undefined ? '—' : humanDuration(ms);
}

/** `{ succeeded: 198, failed: 2, rejected: 0 }` → "198 succeeded, 2 failed"; nothing to count → "—". */
export function countsText(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n !== 0)
    .map(([name, n]) => `${formatNumber(n)} ${name}`);
  return parts.length > 0 ? parts.join(', ') : '—';
}

/** A cell's time running: all its runs together, and over how many ("32 s (2 runs)"). */
export function timeRunning(cell: { durationMs?: number; runCount?: number }): string {
  const runs = cell.runCount ?? 0;
  return formatDuration(cell.durationMs) + (runs > 1 ? ` (${runs} runs)` : '');
}
