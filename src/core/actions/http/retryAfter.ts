/**
 * Reads the `Retry-After` response header (RFC 9110 §10.2.3). This file cannot depend on the vscode API.
 */

/**
 * The longest wait a target can impose through Retry-After. A misconfigured server answering "one day"
 * must not freeze a run silently; past this the runner's own backoff and the operator decide.
 */
export const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

/**
 * Milliseconds to wait according to a `Retry-After` value: either delay-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`, relative to `now`). A date in the past means 0. Capped at
 * {@link MAX_RETRY_AFTER_MS}; undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // Date.parse would also accept "5" or "2015-10-21"; an HTTP date always names its weekday and zone.
  if (!/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}
