/**
 * What a dry run reports: counts, rejected and duplicate records, the exact sample of what would be sent,
 * the fingerprint the production gate compares. Kept apart from dryRun.ts so what stores or shows a
 * report need not load the dry run itself.
 *
 * This folder cannot depend on the vscode API.
 */
import type { ActionPreview } from '../actions/preview';
import type { JobFingerprint } from '../job/fingerprint';
import type { RejectedRecord } from '../model/types';
import type { SourceCheckpoint } from '../sources/postgres/checkpointTrail';

export interface PreviewItem {
  why: 'first' | 'random';
  key: string;
  line: number;
  /** Exactly what would be sent, secrets redacted. */
  send: ActionPreview;
}

export interface DuplicateRecord {
  key: string;
  line: number;
  firstLine: number;
}

export interface DryRunReport {
  id: string;
  runbook: string;
  cell: string;
  job: string;
  /** Where records came from; rejected records' lines are lines of this file. */
  source: { type: string; path?: string; outsideRunbookFolder?: string };
  environment: { name: string; production: boolean };
  operator: string;
  startedAt: string;
  finishedAt: string;
  counts: {
    /** Records read from the source. */
    total: number;
    valid: number;
    rejected: number;
    duplicates: number;
    /** Valid records the cell's subset selects: what a run would send. */
    selected: number;
  };
  rejected: RejectedRecord[];
  duplicates: DuplicateRecord[];
  preview: PreviewItem[];
  estimate: { records: number; rate: number; concurrency: number; seconds: number };
  fingerprint: JobFingerprint;
  passed: boolean;
  /** Why the dry run did not pass, in words the operator can act on. */
  problems: string[];
  warnings: string[];
  /**
   * A database source's checkpoints (`fingerprint: rows`): a production gate that finds the data changed
   * since this dry run says where (see sources/postgres/checkpointTrail.ts). At most 129 short entries.
   */
  sourceCheckpoints?: SourceCheckpoint[];
  /** Where the result was stored, when it was. */
  ledger?: string;
}
