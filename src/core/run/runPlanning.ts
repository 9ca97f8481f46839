/**
 * What a run decides before anything is recorded: the job's fingerprint over the source as it is now,
 * whether the gate and the ledger let it go on, where it resumes, the subset it takes and where the feed
 * starts reading. Everything here only reads; a refusal leaves no run behind.
 *
 * This file cannot depend on the vscode API.
 */
import { fingerprintJob, type JobFingerprint } from '../job/fingerprint';
import type { Ledger } from '../ledger/ledger';
import type { RecordStatus } from '../model/runs';
import { joinRefusal } from '../fleet/sharedRun';
import { chunkingOf } from '../fleet/chunkRanges';
import type { OpenSourceOptions } from '../sources/sourceKind';
import type { SourcePin } from '../sources/sourcePin';
import { createSubsetFilter, type SubsetFilter } from '../sources/subsetFilter';
import { planFeedSeek, type FeedSeek } from './feedSeek';
import type { KeyMemory } from './keyMemory';
import { prepareSubset } from './recordFeed';
import type { ResumePlan } from './resumePlan';
import { loadResumePlan } from './resumePlanLoader';
import type { RunOptions } from './runOptions';
import { cachedSourceHash } from './sourceHashCache';
import { pinDryRunCheckpoints, withSourceChange } from './sourceChangeSinceDryRun';
import type { Thresholds } from './thresholds';
import type { RunKind } from './verdict';

export interface RunPlanningInput {
  options: RunOptions;
  ledger: Ledger;
  kind: RunKind;
  /** The status a record that could not be attempted ends in (the strategy's). */
  failureStatus: RecordStatus;
  /** What the check before the run reads of a database source, so the sending pass reads the same rows. */
  pin: SourcePin;
  stateDir: string;
  sourceOptions: Pick<OpenSourceOptions, 'connection' | 'location' | 'pin'>;
  keys: KeyMemory;
  resendDelivered: boolean;
  thresholds: Thresholds;
}

/** A run allowed to start: what it sends, from where. */
export interface PlannedRun {
  fingerprint: JobFingerprint;
  plan: ResumePlan;
  subset: SubsetFilter;
  /** The records a count sample takes, when the cell samples a count. */
  sampled: number | undefined;
  /** Whether workers can share the run through chunks of its source. */
  shareable: boolean;
  /** How the feed reads a seekable file source: from where, noting marks (feedSeek.ts). */
  seek: FeedSeek | undefined;
}

/** Plans the run, or says why it is refused (a worker that cannot join, the gate, the ledger). */
export async function planRun(input: RunPlanningInput): Promise<PlannedRun | { refused: string }> {
  const { options, ledger, pin, keys } = input;
  const { job, runbook, environment } = options;
  await pinDryRunCheckpoints(pin, ledger, job.cell, job, environment);
  const contentHash = await cachedSourceHash(
    job.source,
    { baseDir: runbook.baseDir, sourceLine: job.sourceLine, ...input.sourceOptions },
    input.stateDir,
  );
  const fingerprint = fingerprintJob(job, environment, contentHash);
  const joined = options.shared?.join;
  if (joined) {
    const refusal = joinRefusal(
      joined,
      { environment: environment.name, fingerprint: fingerprint.combined, subset: job.subset },
      runbook.file,
    );
    if (refusal) return { refused: refusal };
  }
  const loaded = await loadResumePlan(ledger, {
    request: {
      cell: job.cell,
      runbookFile: runbook.file,
      kind: input.kind,
      restart: !!options.restart,
      onlyFailed: !!options.onlyFailed,
      onlyUnverified: !!options.onlyUnverified,
      failureStatus: input.failureStatus,
      resendDelivered: input.resendDelivered,
      thresholds: input.thresholds,
    },
    runbook,
    job: job.job,
    fingerprint,
    hasSubset: !!job.subset,
    ...(options.gate ? { gate: options.gate } : {}),
    // A worker reads its chunks out of line order, which a merge by line cannot follow: a shared run
    // keeps its finished keys as a Set (chunks add the keys finished by an earlier holder to it).
    ...(options.shared
      ? { keysInMemory: Infinity }
      : keys.keysInMemory !== undefined
        ? { keysInMemory: keys.keysInMemory }
        : {}),
  });
  if ('refused' in loaded) return { refused: withSourceChange(loaded.refused, pin) };
  const plan = loaded.plan;
  const subset = createSubsetFilter(job.subset, { baseDir: runbook.baseDir });
  const sampled =
    job.subset?.sample?.count !== undefined
      ? await prepareSubset(job, runbook.baseDir, subset, input.sourceOptions, keys)
      : undefined;
  // A re-run of chosen records, a count sample, a re-judgement and a command's output run in the process
  // that starts them.
  const shareable =
    !plan.rerun && sampled === undefined && !plan.chain.rejudge && chunkingOf(job.source) !== undefined;
  if (joined && (!shareable || plan.chain.id !== joined.chain)) {
    return {
      refused: `run ${joined.id} of cell ${job.cell} is not split into chunks (a re-run of chosen records, a sample, a re-judgement or a ${job.source.type} source runs in the process that started it): there is nothing for a worker to join`,
    };
  }
  const seek = await planFeedSeek({
    ledger,
    plan,
    source: job.source,
    whole: !job.subset && sampled === undefined && !options.shared,
    repeatedKeysFile: keys.cacheFile,
    fingerprint: fingerprint.combined,
  });
  return { fingerprint, plan, subset, sampled, shareable, seek };
}
