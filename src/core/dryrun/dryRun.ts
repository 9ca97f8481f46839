/**
 * The dry run — the default of everything. It reads the whole source, validates every record, renders
 * what would be sent for every record (so a record that cannot be sent safely is caught now), keeps the
 * exact rendering of a sample, counts, estimates the duration and fingerprints the job. It performs no
 * side effect on the target: no request, no command, no handler; only a module's `dryRun` export runs.
 */
import type { SourceCheckpoint } from '../sources/postgres/checkpointTrail';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { compileAction } from '../actions/preview';
import { requireRecordFields } from '../job/requiredFields';
import type { ResolvedEnvironment } from '../job/environment';
import { fingerprintJob, sha256, type JobFingerprint } from '../job/fingerprint';
import type { RunnableCell, Runbook } from '../format/runbook';
import type { ResolvedJob } from '../job/job';
import { ledgerPlaceOf } from '../ledger/ledgerPlace';
import type { DryRunReport, DuplicateRecord, PreviewItem } from './dryRunReport';
import { recordDryRun } from './recordDryRun';
import { SecretResolver, Redactor } from '../secrets/secrets';
import { seededRandom } from '../support/seededRandom';
import { openSource } from '../sources/openSource';
import { outsideRunbookFolder } from '../sources/sourceLocation';
import { RecordValidator } from '../sources/recordValidator';
import { keyLimitsFrom } from '../sources/keyLimits';
import { giveRepeatedKeys } from '../sources/repeatedKeys';
import { createSubsetFilter } from '../sources/subsetFilter';
import type { RejectedRecord, ValidRecord } from '../model/types';

/** How many rejected and duplicate records a report lists; all of them are counted. */
const LISTED = 100;

export interface DryRunOptions {
  environment: ResolvedEnvironment;
  /** Where `${secret:NAME}` values come from: process.env on the CLI, SecretStorage in the editor. */
  secretValues: Record<string, string | undefined>;
  /** Whom the ledger records as having run it: decided by the front end (core/model/identity.ts). */
  operator: string;
  /** Called at most every few hundred milliseconds while reading. */
  onProgress?: (progress: DryRunProgress) => void;
  signal?: AbortSignal;
  /** Store the result in the ledger (default true). */
  record?: boolean;
}

export interface DryRunProgress {
  records: number;
  bytesRead: number;
  totalBytes?: number;
}

export type { DryRunReport, DuplicateRecord, PreviewItem } from './dryRunReport';

export async function dryRun(
  runbook: Runbook,
  cell: RunnableCell,
  job: ResolvedJob,
  options: DryRunOptions,
): Promise<DryRunReport> {
  const startedAt = new Date().toISOString();
  const action = compileAction(job.action, {
    baseDir: runbook.baseDir,
    location: { file: runbook.file, cell: job.job, line: job.actionLine },
  });
  // A missing secret does not stop a dry run: it renders a stand-in (redacted like any secret) and
  // the dry run does not pass, so a real run cannot start without it.
  const missingSecrets = action.references.secretNames.filter((name) => !options.secretValues[name]);
  const secrets = new SecretResolver({ ...options.secretValues, ...standIns(missingSecrets) });
  const redactor = new Redactor(secrets);
  secrets.resolveAll(action.references.secretNames);
  const renderContext = {
    env: options.environment.vars,
    secrets,
    production: options.environment.production,
  };

  const checkpoints: SourceCheckpoint[] = [];
  // A stand-in is no connection URL: a database source needs the real secret, or says it is not set.
  const connection = {
    env: renderContext.env,
    secrets: {
      resolve: (name: string) =>
        missingSecrets.includes(name) ? new SecretResolver({}).resolve(name) : secrets.resolve(name),
    },
  };
  const reading = {
    baseDir: runbook.baseDir,
    sourceLine: job.sourceLine,
    ...(options.signal ? { signal: options.signal } : {}),
    connection,
    location: { file: runbook.file, cell: job.job, line: job.sourceLine },
  };
  await requireRecordFields(
    job.source,
    action,
    { file: runbook.file, cell: job.job, line: job.actionLine },
    reading,
  );
  const stream = openSource(job.source, { ...reading, checkpoints });
  const keyLimits = keyLimitsFrom();
  const validator = new RecordValidator(job.source, keyLimits);
  const subset = createSubsetFilter(job.subset, { baseDir: runbook.baseDir });
  const sample = new PreviewSampler(firstCount(cell), randomCount(cell), seed(cell));
  const rejected: RejectedRecord[] = [];
  const duplicates: DuplicateRecord[] = [];
  const counts = { total: 0, valid: 0, rejected: 0, duplicates: 0, selected: 0 };
  const progress = throttled(options.onProgress, 250);

  for await (const item of stream) {
    counts.total += 1;
    // A big source: its repeated keys, found by one more pass in bounded memory (sources/repeatedKeys.ts).
    if (validator.needsRepeatedKeys)
      await giveRepeatedKeys(validator, () => openSource(job.source, reading), keyLimits);
    const checked = validator.check(item);
    if (checked.rejected) {
      counts.rejected += 1;
      if (rejected.length < LISTED) rejected.push(checked.rejected);
    } else if (checked.duplicate) {
      counts.duplicates += 1;
      if (duplicates.length < LISTED) duplicates.push(checked.duplicate);
    } else if (checked.valid) {
      const record = checked.valid;
      // Render every record, not only the sample: a value that cannot be sent safely is found now.
      const rendered = action.render(record, renderContext);
      if (!rendered.ok) {
        counts.rejected += 1;
        if (rejected.length < LISTED)
          rejected.push({ line: record.line, key: record.key, reason: rendered.reason });
      } else {
        counts.valid += 1;
        if (subset.includes(record)) {
          counts.selected += 1;
          sample.offer(record);
        }
      }
    }
    progress({ records: counts.total, bytesRead: stream.bytesRead(), totalBytes: stream.totalBytes() });
  }
  counts.selected = subset.finish(counts.selected);

  const fingerprint = fingerprintJob(job, options.environment, stream.contentHash());
  const { preview, failed } = await renderPreview(
    sample.picked(subset),
    runbook,
    fingerprint,
    renderContext,
    action,
  );
  const threshold = cell.kind === 'verify' ? 1 : cell.spec.successThreshold;
  const maxRejected = cell.kind === 'verify' ? undefined : cell.spec.maxRejected;
  const limits = { threshold, ...(maxRejected !== undefined ? { maxRejected } : {}) };
  const at = problemLocator(runbook, cell, job);
  const problems = [...passProblems(counts, limits, missingSecrets, at, cell.id), ...failed];
  const report: DryRunReport = {
    id: randomUUID(),
    runbook: runbook.header.name,
    cell: cell.id,
    job: job.job,
    source: sourceDescription(job, runbook),
    environment: { name: options.environment.name, production: options.environment.production },
    operator: options.operator,
    startedAt,
    finishedAt: new Date().toISOString(),
    counts,
    rejected,
    duplicates,
    preview,
    estimate: estimate(counts.selected, job),
    fingerprint,
    passed: problems.length === 0,
    problems,
    warnings: secrets.warnings(),
    ...(checkpoints.length > 0 ? { sourceCheckpoints: checkpoints } : {}),
  };
  const safeReport = redactor.redactValue(report);
  if (options.record !== false) {
    const place = ledgerPlaceOf(
      runbook.header,
      options.environment,
      new SecretResolver(options.secretValues),
    );
    safeReport.ledger = await recordDryRun(runbook, safeReport, place);
  }
  return safeReport;
}

async function renderPreview(
  picked: { record: ValidRecord; why: 'first' | 'random' }[],
  runbook: Runbook,
  fingerprint: JobFingerprint,
  context: { env: Record<string, string>; secrets: SecretResolver },
  action: ReturnType<typeof compileAction>,
): Promise<{ preview: PreviewItem[]; failed: string[] }> {
  const items: PreviewItem[] = [];
  const failed: string[] = [];
  for (const { record, why } of picked) {
    const idempotencyKey = idempotencyKeyFor(runbook.header.name, fingerprint.combined, record.key);
    // preview() also runs a module's side-effect-free dryRun export; never its handler.
    const rendered = await action.preview(record, { ...context, idempotencyKey });
    if (rendered.ok) items.push({ why, key: record.key, line: record.line, send: rendered.preview });
    // A module that cannot be loaded, or whose dryRun throws, cannot be shown, so it must not pass:
    // a passing dry run is what lets a production run start.
    else if (!failed.some((problem) => problem.endsWith(`: ${rendered.reason}`)))
      failed.push(`record ${record.key} (line ${record.line}) cannot be previewed: ${rendered.reason}`);
  }
  return { preview: items, failed };
}

/**
 * The idempotency key of a record: stable across retries and resumes of the same job on the same data,
 * so the target can recognise a record it has already applied.
 */
export function idempotencyKeyFor(runbookName: string, fingerprint: string, key: string): string {
  return sha256(`${runbookName}\u0000${fingerprint}\u0000${key}`).slice(0, 32);
}

/**
 * Why the dry run does not pass. Rejected (malformed) records are judged by the cell's `maxRejected`,
 * for a dry-run cell and an execute cell alike: an execute cell's `successThreshold` is about the records
 * sent (verdict.ts), never their validity. Only a cell without `maxRejected` falls back to the valid share
 * against its `successThreshold`, so that nothing malformed passes unnoticed; the message then says to
 * set `maxRejected`.
 */
function passProblems(
  counts: DryRunReport['counts'],
  limits: { threshold: number; maxRejected?: number },
  missingSecrets: string[],
  at: (field: 'source' | 'subset' | 'successThreshold' | 'maxRejected') => string,
  cellId: string,
): string[] {
  const { threshold, maxRejected } = limits;
  const problems: string[] = [];
  if (counts.selected === 0) {
    problems.push(
      counts.valid === 0
        ? `${at('source')}no record would be sent: check the source and the subset`
        : `${at('subset')}no record would be sent: the subset selects none of the ${counts.valid} valid records`,
    );
  }
  const rejected = counts.rejected.toLocaleString('en-US');
  if (maxRejected !== undefined && counts.rejected > maxRejected) {
    problems.push(
      `${at('maxRejected')}${rejected} records are rejected, more than maxRejected ${maxRejected}: ` +
        `fix the rejected records or raise maxRejected of cell ${cellId}`,
    );
  }
  const considered = counts.valid + counts.rejected;
  if (maxRejected === undefined && considered > 0 && counts.valid / considered < threshold) {
    const share = ((counts.valid / considered) * 100).toFixed(2);
    problems.push(
      `${at('successThreshold')}${rejected} records are rejected and cell ${cellId} sets no maxRejected, ` +
        `so its successThreshold judges them (only ${share} % valid, below ${threshold * 100} %): fix the ` +
        `rejected records, or accept them with maxRejected: ${counts.rejected} in cell ${cellId}`,
    );
  }
  for (const name of missingSecrets) {
    problems.push(`secret ${name} is not set: provide it (e.g. export ${name}=…) before a real run`);
  }
  return problems;
}

/**
 * Where a field that made the dry run fail is, as `FILE:LINE: cell ID: FIELD: ` (the job's cell for its
 * source), so the message says what to change and where. The runbook's own name, not its path: the
 * problems are stored in the ledger and in the runbook's result block.
 */
function problemLocator(runbook: Runbook, cell: RunnableCell, job: ResolvedJob) {
  const file = path.basename(runbook.file);
  return (field: 'source' | 'subset' | 'successThreshold' | 'maxRejected'): string =>
    field === 'source'
      ? `${file}:${job.sourceLine}: job ${job.job}: source: `
      : `${file}:${cell.locate([field])}: cell ${cell.id}: ${field}: `;
}

function sourceDescription(job: ResolvedJob, runbook: Runbook): DryRunReport['source'] {
  const { source } = job;
  if ('path' in source) {
    const outside = outsideRunbookFolder(source.path, runbook.baseDir);
    return { type: source.type, path: source.path, ...(outside ? { outsideRunbookFolder: outside } : {}) };
  }
  // Inline records are located by their line in the runbook itself.
  return source.type === 'inline' ? { type: source.type, path: runbook.file } : { type: source.type };
}

function standIns(names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, `unset-secret-${name}`]));
}

function estimate(records: number, job: ResolvedJob): DryRunReport['estimate'] {
  const { rate, concurrency } = job.throttle;
  return { records, rate, concurrency, seconds: records / rate };
}

function firstCount(cell: RunnableCell): number {
  return cell.kind === 'dry-run' ? cell.spec.preview.first : 3;
}
function randomCount(cell: RunnableCell): number {
  return cell.kind === 'dry-run' ? cell.spec.preview.random : 3;
}
function seed(cell: RunnableCell): number {
  return cell.kind === 'dry-run' ? cell.spec.preview.seed : 1;
}

function throttled<T>(callback: ((value: T) => void) | undefined, everyMs: number): (value: T) => void {
  if (!callback) return () => undefined;
  let last = 0;
  return (value) => {
    const now = Date.now();
    if (now - last >= everyMs) {
      last = now;
      callback(value);
    }
  };
}

/**
 * Keeps the first N selected records and a seeded uniform random sample (reservoir sampling) of the
 * rest, in constant memory whatever the size of the source.
 */
class PreviewSampler {
  private readonly first: ValidRecord[] = [];
  private readonly reservoir: ValidRecord[] = [];
  private seen = 0;
  private readonly random: () => number;

  constructor(
    private readonly firstCount: number,
    private readonly randomCount: number,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  offer(record: ValidRecord): void {
    if (this.first.length < this.firstCount) {
      this.first.push(record);
      return;
    }
    this.seen += 1;
    if (this.reservoir.length < this.randomCount) {
      this.reservoir.push(record);
    } else {
      const slot = Math.floor(this.random() * this.seen);
      if (slot < this.randomCount) this.reservoir[slot] = record;
    }
  }

  picked(subset: {
    includes(record: ValidRecord): boolean;
  }): { record: ValidRecord; why: 'first' | 'random' }[] {
    const random = [...this.reservoir].sort((a, b) => a.line - b.line);
    return [
      ...this.first.filter((r) => subset.includes(r)).map((record) => ({ record, why: 'first' as const })),
      ...random.filter((r) => subset.includes(r)).map((record) => ({ record, why: 'random' as const })),
    ];
  }
}
