/**
 * How many records a run will really send, known before the first one: the plan line says "Records: 20
 * of 1,995 (subset first: 20)", not "all selected", and a gap re-send says the 9 records it re-sends, not
 * the 500 of its chain. Pure arithmetic over what the resume plan read (the dry runs of the same data, the
 * chain's finished keys, what other cells delivered); no extra pass over the source. When the exact count
 * cannot be known without reading the source (a `range`, say), it is an upper bound or left out. This file
 * cannot depend on the vscode API.
 */
import type { DryRunRow } from '../ledger/ledger';
import type { Subset } from '../format/schemas';
import type { ResumePlan } from './resumePlan';
import type { PlannedRecords } from './runEvents';
import { sumOf } from './statusCounts';

/**
 * Valid records of the job's source as a dry run of the very same job and data counted them (any
 * cell, any subset: the count of valid records does not depend on the subset).
 */
export function sourceRecords(dryRuns: readonly DryRunRow[], fingerprint: string): number | undefined {
  return dryRuns.find((dryRun) => dryRun.fingerprint === fingerprint)?.valid;
}

/** The subset in words, for the plan line. */
export function describeSubset(subset: Subset): string {
  const parts: string[] = [];
  if (subset.keys) parts.push(`keys: ${subset.keys.length} listed`);
  if (subset.keysFile !== undefined) parts.push(`keysFile: ${subset.keysFile}`);
  if (subset.exclude) parts.push(`exclude: ${subset.exclude.length}`);
  if (subset.range) parts.push(`range: ${subset.range.from ?? '…'} to ${subset.range.to ?? '…'}`);
  if (subset.sample?.percent !== undefined) parts.push(`sample: ${subset.sample.percent} %`);
  if (subset.sample?.count !== undefined) parts.push(`sample: ${subset.sample.count} records`);
  if (subset.first !== undefined) parts.push(`first: ${subset.first}`);
  return parts.join(', ');
}

/** What a run plans to send, as far as it is known up front. */
export function plannedRecords(input: {
  plan: ResumePlan;
  subset: Subset | undefined;
  /** Valid records of the source ({@link sourceRecords}). */
  ofSource: number | undefined;
  /** What a count sample selects, once prepared. */
  sampled: number | undefined;
}): PlannedRecords {
  const { plan, subset, ofSource } = input;
  const context = {
    ...(ofSource !== undefined ? { ofSource } : {}),
    ...(subset ? { subset: describeSubset(subset) } : {}),
  };
  if (plan.rerun) return { sending: plan.rerun.records, ...context };
  const selection = selectionSize(plan, subset, ofSource, input.sampled);
  if (!selection) return context;
  // Records of the selection this chain finished: its done keys less the rejected ones (never valid).
  const validDone = Math.max(0, plan.doneKeys.size - plan.earlier.rejected);
  const elsewhere = doneElsewhere(plan);
  // Without a subset every delivered record is in the selection; with one, only some may be.
  const atMost = selection.atMost || (subset !== undefined && elsewhere > 0);
  const sending = Math.max(0, selection.records - validDone - (subset ? 0 : elsewhere));
  return { sending, ...(atMost ? { atMost: true as const } : {}), ...context };
}

/** Valid records the cell selects, exactly or as an upper bound; undefined when not known. */
function selectionSize(
  plan: ResumePlan,
  subset: Subset | undefined,
  ofSource: number | undefined,
  sampled: number | undefined,
): { records: number; atMost: boolean } | undefined {
  if (!subset) return ofSource !== undefined ? { records: ofSource, atMost: false } : undefined;
  // A dry run with this very subset counted it.
  if (plan.expectedTotal !== undefined) return { records: plan.expectedTotal, atMost: false };
  if (sampled !== undefined) return { records: sampled, atMost: false };
  const onlyFirst = Object.keys(subset).every((field) => field === 'first');
  if (subset.first !== undefined && onlyFirst) {
    return ofSource !== undefined
      ? { records: Math.min(subset.first, ofSource), atMost: false }
      : { records: subset.first, atMost: true };
  }
  const bounds = [subset.first, subset.keys && !subset.keysFile ? subset.keys.length : undefined, ofSource];
  const known = bounds.filter((bound): bound is number => bound !== undefined);
  return known.length > 0 ? { records: Math.min(...known), atMost: true } : undefined;
}

/**
 * The records the cell selects to send, as the dry run (and so the run's confirmation) counts them: the
 * denominator of the live progress, whose numerator is {@link selectionDone}. A re-run counts its chain:
 * the earlier outcomes of valid records plus the records re-run. Undefined when only a bound is known.
 */
export function plannedSelection(input: {
  plan: ResumePlan;
  subset: Subset | undefined;
  ofSource: number | undefined;
  sampled: number | undefined;
}): number | undefined {
  const { plan } = input;
  if (plan.rerun) return sumOf(plan.earlier) - plan.earlier.rejected + plan.rerun.records;
  const selection = selectionSize(plan, input.subset, input.ofSource, input.sampled);
  return selection && !selection.atMost ? selection.records : undefined;
}

/**
 * Records the chain processes in all, when known: what the status's progress and ETA count toward. For
 * a re-run, the chain's earlier outcomes plus the records re-run; otherwise the dry run's count (or what
 * a count sample selects), less what other cells delivered — exact without a subset, unknown with one.
 */
export function plannedTotal(
  plan: ResumePlan,
  sampled: number | undefined,
  hasSubset: boolean,
): number | undefined {
  if (plan.rerun) return sumOf(plan.earlier) + plan.rerun.records;
  const base = plan.expectedTotal ?? sampled;
  const elsewhere = doneElsewhere(plan);
  if (base === undefined || elsewhere === 0) return base;
  return hasSubset ? undefined : Math.max(0, base - elsewhere);
}

/** Records other cells delivered that the chain has not finished itself, all cells together. */
function doneElsewhere(plan: ResumePlan): number {
  let count = 0;
  for (const records of Object.values(plan.doneElsewhere)) count += records;
  return count;
}
