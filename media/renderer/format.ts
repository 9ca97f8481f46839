/**
 * Numbers, durations and rates as an operator reads them at a glance. Pure: no DOM, unit-tested.
 */

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `1234567` → `1,234,567`; anything that is not a finite number shows as `–`. */
export function formatCount(value: number | undefined): string {
  return isFiniteNumber(value) ? grouped.format(Math.round(value)) : '–';
}

/** Records per second with a precision that suits the magnitude: `0.25/s`, `4.8/s`, `1,250/s`. */
export function formatRate(perSecond: number | undefined): string {
  if (!isFiniteNumber(perSecond)) return '–';
  if (perSecond === 0) return '0/s';
  if (perSecond < 1) return `${perSecond.toFixed(2)}/s`;
  if (perSecond < 100) return `${trimZero(perSecond.toFixed(1))}/s`;
  return `${grouped.format(perSecond)}/s`;
}

/** A share of a whole as a percentage with one decimal (`99.4 %`), never rounding a part up to 100 %. */
export function formatPercent(part: number, whole: number): string {
  if (!isFiniteNumber(part) || !isFiniteNumber(whole) || whole <= 0) return '–';
  const share = (part / whole) * 100;
  // 99.96 % would print as 100.0 %: an operator reads that as "all done" while records remain. Above
  // 100 % (a whole estimated before the count grew) means nothing to anyone.
  const shown = part < whole ? Math.min(share, 99.9) : Math.min(share, 100);
  return `${trimZero(shown.toFixed(1))} %`;
}

/** `42` → `42 s`, `754` → `12 min 34 s`, `7300` → `2 h 01 min`, `200000` → `2 d 07 h`. */
export function formatDuration(seconds: number | undefined): string {
  if (!isFiniteNumber(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${pad(s % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${pad(minutes % 60)} min`;
  return `${Math.floor(hours / 24)} d ${pad(hours % 24)} h`;
}

/** Latency: `850 ms`, `1.2 s`, `45 s`. */
export function formatLatency(ms: number | undefined): string {
  if (!isFiniteNumber(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${trimZero((ms / 1000).toFixed(1))} s`;
  return formatDuration(ms / 1000);
}

/** A point in time as local `HH:MM:SS`, with the date when it is not today. */
export function formatClock(iso: string | undefined, now: Date = new Date()): string {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = [date.getHours(), date.getMinutes(), date.getSeconds()].map(pad).join(':');
  if (date.toDateString() === now.toDateString()) return time;
  const day = [date.getFullYear(), pad(date.getMonth() + 1), pad(date.getDate())].join('-');
  return `${day} ${time}`;
}

/** Shortens long identifiers (fingerprints, run ids) for display; the full value goes in a tooltip. */
export function shortId(id: string | undefined, length = 12): string {
  if (!id) return '–';
  return id.length <= length ? id : `${id.slice(0, length)}…`;
}

/** `1 record`, `3 records`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(count)} ${count === 1 ? singular : pluralForm}`;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function trimZero(fixed: string): string {
  return fixed.replace(/\.0+$/, '');
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/**
 * Characters that change how text looks without being seen (bidi overrides, zero-width spaces, control
 * characters) shown as `\u{202e}`, so a record value cannot make a preview read differently from what is
 * sent. Newlines and tabs stay: they lay out multi-line bodies.
 */
export function revealInvisible(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
    (char) => `\\u{${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}}`,
  );
}
