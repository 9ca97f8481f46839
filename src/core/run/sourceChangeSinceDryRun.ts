/**
 * Where a database source changed since the passing dry run, for the production gate's refusal: the
 * check before the run compares its running hashes with the dry run's checkpoints (see
 * sources/postgres/checkpointTrail.ts), and the refusal names the first range of keys that differs.
 */
import type { ResolvedEnvironment } from '../job/environment';
import { fingerprintJob } from '../job/fingerprint';
import type { ResolvedJob } from '../job/job';
import type { Ledger } from '../ledger/ledger';
import type { SourceCheckpoint } from '../sources/postgres/checkpointTrail';
import type { SourcePin } from '../sources/sourcePin';

/**
 * Gives `pin` the checkpoints of the newest passing dry run of this job, environment and definition (of
 * this cell if there is one): the one whose data the gate compares with.
 */
export async function pinDryRunCheckpoints(
  pin: SourcePin,
  ledger: Ledger,
  cell: string,
  job: ResolvedJob,
  environment: ResolvedEnvironment,
): Promise<void> {
  const definition = fingerprintJob(job, environment, '').definition;
  const candidates = (await ledger.dryRuns()).filter(
    (row) =>
      row.passed &&
      row.job === job.job &&
      row.environment === environment.name &&
      row.definitionHash === definition,
  );
  const row = candidates.find((candidate) => candidate.cell === cell) ?? candidates[0];
  if (!row) return;
  try {
    const report = JSON.parse(row.report) as { sourceCheckpoints?: SourceCheckpoint[] };
    if (report.sourceCheckpoints?.length) pin.dryRunCheckpoints = report.sourceCheckpoints;
  } catch {
    // A report that does not parse only means the refusal cannot say where.
  }
}

/** The gate's refusal, with where the source's rows changed when the check found it. */
export function withSourceChange(reason: string, pin: SourcePin): string {
  const where = pin.changedSinceDryRun;
  return where && /the source data changed/.test(reason)
    ? `${reason}\n  first change: ${where} differ from what the dry run read`
    : reason;
}
