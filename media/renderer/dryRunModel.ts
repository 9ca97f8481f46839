/**
 * The dry-run preview's content: verdict, counts, estimate, sample requests exactly as they would be
 * sent, rejected and duplicate records. Pure (no DOM), unit-tested; dryRunView.ts renders it.
 */
import type { DuplicateRecord } from '../../src/core/dryrun/dryRun';
import type { RejectedRecord } from '../../src/core/model/types';
import { capList, type CappedList } from './aggregate';
import { formatClock, formatCount, formatDuration, formatRate, revealInvisible, shortId } from './format';
import type { DryRunPayload } from './payloads';
import type { Stat } from './progressModel';
import { requestText } from './requestText';

export interface SampleRequest {
  id: string;
  heading: string;
  /** `first` records or a seeded `random` pick. */
  why: string;
  text: string;
}

export interface DryRunModel {
  passed: boolean;
  verdict: string;
  production: boolean;
  context: string;
  problems: string[];
  warnings: string[];
  stats: Stat[];
  estimate: string;
  samplesHeading: string;
  samples: SampleRequest[];
  rejected: CappedList<{ line: string; key: string; reason: string }>;
  rejectedCount: number;
  duplicates: CappedList<{ line: string; key: string; firstLine: string }>;
  duplicateCount: number;
  footer: string;
  fingerprint: string;
}

export function dryRunModel(report: DryRunPayload, now: Date = new Date()): DryRunModel {
  const counts = report.counts;
  const environment = report.environment ?? { name: '–', production: false };
  const preview = report.preview ?? [];
  return {
    passed: report.passed === true,
    verdict: report.passed ? 'Dry run passed' : 'Dry run not passed',
    production: environment.production === true,
    context: [`cell ${report.cell}`, `job ${report.job}`, environment.name].map(safe).join(' · '),
    problems: (report.problems ?? []).map(safe),
    warnings: (report.warnings ?? []).map(safe),
    stats: [
      { id: 'total', label: 'Read', value: formatCount(counts.total), title: 'Records read from the source' },
      { id: 'valid', label: 'Valid', value: formatCount(counts.valid), tone: 'success' },
      {
        id: 'rejected',
        label: 'Rejected',
        value: formatCount(counts.rejected),
        tone: counts.rejected > 0 ? 'warning' : 'neutral',
      },
      {
        id: 'duplicates',
        label: 'Duplicates',
        value: formatCount(counts.duplicates),
        tone: counts.duplicates > 0 ? 'warning' : 'neutral',
        title: 'Records whose key appeared earlier in the source; only the first is sent',
      },
      {
        id: 'selected',
        label: 'Would send',
        value: formatCount(counts.selected),
        tone: 'info',
        title: 'Valid records the cell selects: what a run would send',
      },
    ],
    estimate: estimateText(report.estimate),
    samplesHeading: `Sample requests — ${formatCount(preview.length)} of ${formatCount(counts.selected)}, exactly as they would be sent`,
    samples: preview.map((item, index) => ({
      id: `${index}:${item.line}:${item.key}`,
      heading: `line ${item.line} · ${safe(item.key)}`,
      why: item.why === 'random' ? 'random sample' : 'first records',
      text: requestText(item.send),
    })),
    rejected: listOf(report.rejected, counts.rejected, (record: RejectedRecord) => ({
      line: String(record.line),
      key: record.key === undefined ? '—' : safe(record.key),
      reason: safe(record.reason),
    })),
    rejectedCount: counts.rejected,
    duplicates: listOf(report.duplicates, counts.duplicates, (record: DuplicateRecord) => ({
      line: String(record.line),
      key: safe(record.key),
      firstLine: String(record.firstLine),
    })),
    duplicateCount: counts.duplicates,
    footer: footerText(report, now),
    fingerprint: report.fingerprint?.combined ?? '',
  };
}

function estimateText(estimate: DryRunPayload['estimate'] | undefined): string {
  if (!estimate) return '';
  const parallel = estimate.concurrency > 1 ? `, ${estimate.concurrency} at a time` : '';
  return `${formatCount(estimate.records)} records at ${formatRate(estimate.rate)}${parallel}: about ${formatDuration(estimate.seconds)}`;
}

function footerText(report: DryRunPayload, now: Date): string {
  const source = report.source?.path ? `${report.source.type} ${report.source.path}` : report.source?.type;
  return [
    source && `source ${safe(source)}`,
    `fingerprint ${shortId(report.fingerprint?.combined)}`,
    report.operator && `by ${safe(report.operator)}`,
    `at ${formatClock(report.finishedAt, now)}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

function listOf<T, R>(items: T[] | undefined, total: number, row: (item: T) => R): CappedList<R> {
  const capped = capList(items, total);
  return { shown: capped.shown.map(row), more: capped.more };
}

function safe(text: string | undefined): string {
  return revealInvisible(String(text ?? ''));
}
