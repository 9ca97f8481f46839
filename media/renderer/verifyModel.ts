/**
 * Verification results: how many records are right, wrong, missing or could not be checked, and a capped
 * list of the records that are not right with what differs. Pure (no DOM), unit-tested.
 */
import { capList, type CappedList } from './aggregate';
import { formatCount, formatPercent, revealInvisible } from './format';
import type { VerifyPayload, VerifyStatus } from './payloads';
import type { Stat, Tone } from './progressModel';

export interface VerifySampleRow {
  id: string;
  key: string;
  status: VerifyStatus;
  statusLabel: string;
  tone: Tone;
  detail: string;
  expected: string;
  actual: string;
}

export interface VerifyModel {
  headline: string;
  tone: Tone;
  stats: Stat[];
  samples: CappedList<VerifySampleRow>;
  /** The label of the button that re-sends the gaps (mismatched or missing records); none without gaps. */
  resend?: string;
  /** `PRODUCTION · NAME` for a verification of a production environment. */
  production?: string;
}

const STATUS: Record<VerifyStatus, { label: string; tone: Tone }> = {
  verified: { label: 'Verified', tone: 'success' },
  mismatch: { label: 'Mismatch', tone: 'danger' },
  missing: { label: 'Missing', tone: 'warning' },
  error: { label: 'Not checked', tone: 'neutral' },
};

export function verifyModel(payload: VerifyPayload): VerifyModel {
  const counts = {
    verified: count(payload.counts.verified),
    mismatch: count(payload.counts.mismatch),
    missing: count(payload.counts.missing),
    error: count(payload.counts.error),
  };
  const checked = counts.verified + counts.mismatch + counts.missing + counts.error;
  const gaps = counts.mismatch + counts.missing;
  const notRight = payload.samples.filter((sample) => sample.status !== 'verified');
  return {
    headline:
      `${formatCount(counts.verified)} of ${formatCount(checked)} records verified ` +
      `(${formatPercent(counts.verified, checked)})` +
      (gaps > 0 ? ` · ${formatCount(gaps)} to re-backfill` : ''),
    tone: gaps > 0 ? 'danger' : counts.error > 0 ? 'warning' : 'success',
    stats: (Object.keys(STATUS) as VerifyStatus[]).map((status) => ({
      id: status,
      label: STATUS[status].label,
      value: formatCount(counts[status]),
      tone: status === 'verified' || counts[status] > 0 ? STATUS[status].tone : 'neutral',
    })),
    samples: (() => {
      const capped = capList(notRight, counts.mismatch + counts.missing + counts.error);
      return { shown: capped.shown.map(sampleRow), more: capped.more };
    })(),
    ...(gaps > 0
      ? { resend: `Re-send the ${formatCount(gaps)} unverified record${gaps === 1 ? '' : 's'}` }
      : {}),
    ...(payload.production ? { production: `PRODUCTION · ${payload.production}` } : {}),
  };
}

function sampleRow(sample: VerifyPayload['samples'][number], index: number): VerifySampleRow {
  const status = STATUS[sample.status] ?? { label: String(sample.status), tone: 'neutral' as const };
  return {
    id: `${index}:${sample.key}`,
    key: revealInvisible(String(sample.key)),
    status: sample.status,
    statusLabel: status.label,
    tone: status.tone,
    detail: revealInvisible(sample.detail ?? ''),
    expected: valueText(sample.expected),
    actual: valueText(sample.actual),
  };
}

/** Expected and actual values arrive as JSON text from the ledger or as values; both show as text. */
function valueText(value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  return revealInvisible(typeof value === 'string' ? value : JSON.stringify(value));
}

function count(value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
