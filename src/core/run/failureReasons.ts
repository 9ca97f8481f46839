/**
 * Why records failed, where people look: the top reasons with a count and one sample key each ("50 ×
 * connection refused (127.0.0.1:9) — e.g. key 1017"), and the first failed keys with their reasons. A
 * run that halted after 50 connection failures must say so in its summary, its status and its events,
 * not only in `backfill ledger --status failed`. Counted in memory as outcomes arrive, in bounded space:
 * at most MAX_REASONS distinct reasons (the rest are counted as "other reasons") and FIRST_FAILED keys.
 * This file cannot depend on the vscode API.
 */

/** One reason records failed for, how many did, and one of them. */
export interface FailureReason {
  reason: string;
  count: number;
  /** A record that failed for this reason. */
  key: string;
}

/** A record that failed, and why. */
export interface FailedRecord {
  key: string;
  reason: string;
}

/** The failures a run recorded at its end, in its `runs.counts`. */
export interface RecordedFailures {
  failures: FailureReason[];
  firstFailed: FailedRecord[];
}

/** Distinct reasons kept; a target answering with record-specific messages must not grow memory. */
const MAX_REASONS = 50;
/** Failed records kept in order of failure. */
const FIRST_FAILED = 5;
/** How many top reasons the status, the summary and the result block show. */
export const TOP_REASONS = 5;
/** Longest reason kept: enough to recognise it, never a whole error body. */
const MAX_REASON_LENGTH = 120;
const OTHER = 'other reasons';

/** Counts failures by reason, and remembers the first failed records. */
export class FailureTally {
  private readonly byReason = new Map<string, FailureReason>();
  private readonly first: FailedRecord[] = [];

  /** Counts one record whose final outcome is a failure; `message` is already redacted. */
  record(key: string, message: string): void {
    const reason = reasonOf(message, key);
    if (this.first.length < FIRST_FAILED) this.first.push({ key, reason });
    const known = this.byReason.get(reason);
    if (known) {
      known.count += 1;
      return;
    }
    const bucket = this.byReason.size < MAX_REASONS ? reason : OTHER;
    const entry = this.byReason.get(bucket);
    if (entry) entry.count += 1;
    else this.byReason.set(bucket, { reason: bucket, count: 1, key });
  }

  /**
   * Takes over what another run recorded (see {@link recordedFailures}): a run judged again sends nothing,
   * and the records its chain's last run saw fail are failed still — its summary and status keep saying why.
   */
  carry(recorded: RecordedFailures): void {
    for (const entry of recorded.failures) this.byReason.set(entry.reason, { ...entry });
    this.first.push(...recorded.firstFailed.slice(0, FIRST_FAILED - this.first.length));
  }

  /** The most frequent reasons, most first (ties: the one seen first). */
  top(count = TOP_REASONS): FailureReason[] {
    return [...this.byReason.values()]
      .sort((a, b) => b.count - a.count)
      .slice(0, count)
      .map((entry) => ({ ...entry }));
  }

  /** The first records that failed, in the order they failed. */
  firstFailed(): FailedRecord[] {
    return this.first.map((entry) => ({ ...entry }));
  }
}

/**
 * A failure's message as a reason shared by every record it happened to: one line, the record's own key
 * left out, Node's "connect ECONNREFUSED 127.0.0.1:9" said as "(127.0.0.1:9)", cut short.
 */
export function reasonOf(message: string, key: string): string {
  let reason = message.replace(/\s+/g, ' ').trim();
  reason = reason.replace(/: (?:connect |read |write )?E[A-Z]+ (\S+)$/, ' ($1)');
  if (key.length >= 3) reason = reason.split(key).join('…');
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;
}

/** "50 × connection refused (127.0.0.1:9) — e.g. key 1017". */
export function describeFailureReason(entry: FailureReason): string {
  return `${entry.count.toLocaleString('en-US')} × ${entry.reason} — e.g. key ${entry.key}`;
}

/** The failures a run recorded with its counts (`runs.counts`, JSON); none when it recorded none. */
export function recordedFailures(counts: string | undefined): RecordedFailures {
  let parsed: { failures?: unknown; firstFailed?: unknown } | undefined;
  try {
    parsed = JSON.parse(counts ?? '') as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const failures = Array.isArray(parsed?.failures) ? parsed.failures.filter(isFailureReason) : [];
  const firstFailed = Array.isArray(parsed?.firstFailed) ? parsed.firstFailed.filter(isFailedRecord) : [];
  return { failures, firstFailed };
}

function isFailureReason(value: unknown): value is FailureReason {
  const entry = value as Partial<FailureReason> | null;
  return (
    typeof entry?.reason === 'string' && typeof entry.count === 'number' && typeof entry.key === 'string'
  );
}

function isFailedRecord(value: unknown): value is FailedRecord {
  const entry = value as Partial<FailedRecord> | null;
  return typeof entry?.key === 'string' && typeof entry.reason === 'string';
}
