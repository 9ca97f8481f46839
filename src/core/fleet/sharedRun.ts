/**
 * What a run needs to be shared by workers through a PostgreSQL ledger, and the checks a worker makes
 * before it joins one: same environment, same job definition and source data (the fingerprint), same
 * subset. The run's creator passed every gate for exactly that job; a worker with an edited runbook
 * would send something nobody dry-ran or signed off, so it is refused.
 *
 * This folder cannot depend on the vscode API.
 */
import { canonicalJson } from '../job/fingerprint';
import type { RunRecord } from '../model/runs';
import type { ChunkSettings } from './chunkRanges';

/** A run shared by workers: where its ledger is, how it is cut and leased, and (for a worker) which run. */
export interface SharedRunOptions {
  /** The ledger's connection URL: it may hold a password, so it is never shown or stored. */
  url: string;
  /** The schema of backfill's tables and the ledger's name there. */
  schema: string;
  ledger: string;
  settings: ChunkSettings;
  /** Set for `backfill worker`: the live run it joins instead of creating one. */
  join?: RunRecord;
  /** Told which chunk this worker works on (undefined: none), for the fleet's status. */
  onChunk?: (chunk: number | undefined) => void;
}

/** Why a worker may not join `run`, or undefined when it may. */
export function joinRefusal(
  run: RunRecord,
  mine: { environment: string; fingerprint: string; subset: unknown },
  runbookFile: string,
): string | undefined {
  const fix =
    `a worker must run the very runbook the run was started with: copy ${runbookFile} and its data from ` +
    "the run's host";
  if (run.environment !== mine.environment) {
    return `run ${run.id} of cell ${run.cell} runs in environment ${run.environment}, not ${mine.environment}: use --env ${run.environment}`;
  }
  if (run.fingerprint !== mine.fingerprint) {
    return `the job definition or source data of this runbook differ from run ${run.id}'s (fingerprint ${short(mine.fingerprint)}, the run's ${short(run.fingerprint)}): ${fix}`;
  }
  const params = JSON.parse(run.params) as { subset?: unknown };
  if (canonicalJson(params.subset ?? null) !== canonicalJson(mine.subset ?? null)) {
    return `the subset of this runbook's cell ${run.cell} differs from run ${run.id}'s: ${fix}`;
  }
  return undefined;
}

function short(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}
