/**
 * What a run of an execute cell would send if it started now, counted the way the runner counts its plan
 * (the same resume plan, planCounts.ts) and said in the plan line's words (plannedRecordsText.ts): the
 * editor's confirmation shows "1,980 of 2,000 (20 skipped: done by small-batch)", as `backfill run` will,
 * not the 2,000 the dry run selected. It only reads the ledger. This file cannot depend on the vscode API.
 */
import { findCell, isRunnable, type Runbook } from '../format/runbook';
import type { JobFingerprint } from '../job/fingerprint';
import { resolveJob } from '../job/job';
import type { Ledger } from '../ledger/ledger';
import { UserError } from '../model/types';
import { resendsDelivered } from './deliveredElsewhere';
import { plannedRecords } from './planCounts';
import { describePlannedRecords } from './plannedRecordsText';
import { loadResumePlan } from './resumePlanLoader';
import { cellThresholds } from './thresholds';

export interface RecordsBeforeRun {
  /** The plan line's words: "1,980 of 2,000 (20 skipped: done by small-batch)". */
  text: string;
  /** Records the run sends, exactly or (with `atMost`) at most; undefined when not known up front. */
  sending?: number;
  atMost?: true;
}

/**
 * The records a plain run (or, with `restart`, a run from the start) of execute cell `cell` would send
 * now, for the data whose fingerprint a dry run just took. `ofSource` is that dry run's count of valid
 * records, for when the ledger has none of the same data. Undefined when the runner would not start such
 * a run (a finished cell, a changed job with a run to resume): its own refusal says why.
 */
export async function recordsBeforeRun(
  ledger: Ledger,
  input: {
    runbook: Runbook;
    cell: string;
    fingerprint: JobFingerprint;
    restart: boolean;
    ofSource?: number;
  },
): Promise<RecordsBeforeRun | undefined> {
  const { runbook, cell, fingerprint } = input;
  const spec = findCell(runbook, cell);
  if (spec?.kind !== 'execute' || !isRunnable(spec)) return undefined;
  const job = resolveJob(runbook, spec);
  let loaded;
  try {
    loaded = await loadResumePlan(ledger, {
      request: {
        cell,
        runbookFile: runbook.file,
        kind: 'execute',
        restart: input.restart,
        failureStatus: 'failed',
        resendDelivered: resendsDelivered(runbook, cell, false),
        thresholds: cellThresholds(runbook, cell, job.successThreshold),
      },
      runbook,
      job: job.job,
      fingerprint,
      hasSubset: !!job.subset,
    });
  } catch (error) {
    if (error instanceof UserError) return undefined;
    throw error;
  }
  if (!('plan' in loaded) || loaded.plan.chain.rejudge) return undefined;
  const { plan } = loaded;
  const ofSource = plan.ofSource ?? input.ofSource;
  const records = plannedRecords({ plan, subset: job.subset, ofSource, sampled: undefined });
  return {
    text: describePlannedRecords({ records, doneElsewhere: plan.doneElsewhere }),
    ...(records.sending !== undefined ? { sending: records.sending } : {}),
    ...(records.atMost ? { atMost: true as const } : {}),
  };
}
