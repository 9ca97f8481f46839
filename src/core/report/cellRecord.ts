/**
 * What a cell's embedded results say, in words, for the notebook to show when a runbook is opened: the
 * last real run and the last dry run, read from the result blocks alone (no ledger), so a shared runbook
 * reads as the post-run document in the editor as it does on a code host.
 */
import { parse } from 'yaml';
import { humanDuration } from '../format/resultBlock';
import { ResultSchema, type Result } from '../format/schemas';

/** The YAML bodies of a cell's result blocks (see ../format/resultSlots.ts). */
export interface CellResultBodies {
  /** `result for=ID`: the last real run, or a dry run when the cell never ran for real. */
  result?: string;
  /** `result for=ID mode=dry-run`: the last dry run beside a real run. */
  dryRun?: string;
}

/** Markdown lines describing the results (real run first); undefined when the cell has none. */
export function cellRecordMarkdown(bodies: CellResultBodies): string | undefined {
  const results = [bodies.result, bodies.dryRun].flatMap((body) => {
    const result = body === undefined ? undefined : readResult(body);
    return result ? [result] : [];
  });
  if (results.length === 0) return undefined;
  return results.map(describeResult).join('\n\n');
}

/** One result as a short paragraph: what, outcome, where, who, when, how long, the counts. */
export function describeResult(result: Result): string {
  const what = result.mode === 'dry-run' ? 'Last dry run' : `Last ${MODE_WORDS[result.mode]}`;
  const facts = [
    result.environment ? `in ${result.mode === 'production' ? 'PRODUCTION ' : ''}${result.environment}` : '',
    result.operator ? `by ${result.operator}` : '',
    result.startedAt ? readableTime(result.startedAt) : '',
    result.durationMs !== undefined ? humanDuration(result.durationMs) : '',
  ].filter(Boolean);
  const counts = Object.entries(result.counts)
    .map(([name, count]) => `${count.toLocaleString('en-US')} ${name}`)
    .join(' · ');
  const reason = result.reason ? ` — ${result.reason}` : '';
  return [
    `**${what}: ${result.outcome ?? 'unknown'}**${reason}`,
    facts.join(' · '),
    counts,
    result.run ? `run \`${result.run}\` (recorded in the runbook)` : '',
  ]
    .filter(Boolean)
    .join('  \n');
}

const MODE_WORDS: Record<Result['mode'], string> = {
  'dry-run': 'dry run',
  execute: 'real run',
  production: 'production run',
  verify: 'verification',
};

/** A time as people read it, in UTC so every reader of a shared runbook sees the same: "5 Dec 2026, 10:03 UTC". */
export function readableTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const month = date.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  const hh = String(date.getUTCHours()).padStart(2, '0');
  const mm = String(date.getUTCMinutes()).padStart(2, '0');
  return `${date.getUTCDate()} ${month} ${date.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

function readResult(body: string): Result | undefined {
  try {
    const parsed = ResultSchema.safeParse(parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
