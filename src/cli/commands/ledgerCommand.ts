import type { Runbook, RunnableCell } from '../../core/format/runbook';
import { resolveJob } from '../../core/job/job';
import { ledgerPlaceForCommand } from '../ledgerPlace';
import { openLedger } from '../../core/ledger/openLedger';
import { resolveEnvironment } from '../../core/job/environment';
import { SecretResolver } from '../../core/secrets/secrets';
import { openSource } from '../../core/sources/openSource';
import { RecordValidator } from '../../core/sources/recordValidator';
import { keyLimitsFrom } from '../../core/sources/keyLimits';
import { giveRepeatedKeys } from '../../core/sources/repeatedKeys';
import { isMerged, readChainRecords, type ChainRecords } from '../../core/ledger/chainRecords';
import { sumOf } from '../../core/run/statusCounts';
import { keyMemoryFor } from '../../core/run/keyMemory';
import { stateDirFor } from '../../core/ledger/statePaths';
import { createSubsetFilter } from '../../core/sources/subsetFilter';
import { RECORD_STATUSES, UNVERIFIED_STATUSES } from '../../core/model/runs';
import type { RecordOutcome, RecordStatus } from '../../core/model/runs';
import { UserError } from '../../core/model/types';
import { ExitCode } from '../exitCodes';
import { loadRunbook } from '../loadRunbook';

/** `unverified` is every verification outcome but `verified`: what `run --only unverified` re-checks. */
const STATUSES = [...RECORD_STATUSES, 'unverified', 'pending'] as const;
const COLUMNS: (keyof RecordOutcome)[] = [
  'cell', 'key', 'status', 'attempts', 'line', 'lastError', 'errorKind', 'httpStatus', 'durationMs', 'idempotencyKey', 'run', 'at',
  'expected', 'actual', 'rowsAffected',
]; // prettier-ignore

/**
 * `backfill ledger FILE`: exports per-record outcomes of the latest run chain of each (or one) execute or
 * verify cell; a verification's mismatches come with the expected and actual values.
 */
export async function ledgerCommand(
  file: string,
  options: { cell?: string; status?: string; format?: string; env?: string },
): Promise<number> {
  const format = options.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') throw new UserError(`--format ${format}: use csv or jsonl`);
  if (options.status !== undefined && !(STATUSES as readonly string[]).includes(options.status)) {
    throw new UserError(`--status ${options.status}: use one of ${STATUSES.join(', ')}`);
  }
  const runbook = loadRunbook(file);
  const cells = runbook.cells.filter(
    (c) => (c.kind === 'execute' || c.kind === 'verify') && (!options.cell || c.id === options.cell),
  );
  if (options.cell && cells.length === 0)
    throw new UserError(`--cell ${options.cell}: not an execute or verify cell of ${file}`);
  const ledger = await openLedger(runbook.file, ledgerPlaceForCommand(runbook, options.env));
  try {
    if (format === 'csv') process.stdout.write(COLUMNS.join(',') + '\n');
    for (const cell of cells) {
      const latest = await ledger.latestRun(cell.id);
      if (options.status === 'pending') {
        const done = latest
          ? await readChainRecords(
              ledger,
              latest.chain,
              RECORD_STATUSES,
              sumOf(await ledger.countByStatus(latest.chain)),
              keyMemoryFor(stateDirFor(runbook.file)).keysInMemory,
            )
          : new Set<string>();
        for await (const pending of pendingRecords(
          runbook,
          cell as RunnableCell,
          done,
          latest?.environment,
        )) {
          process.stdout.write(
            format === 'csv' ? csvRow(pending as RecordOutcome) : JSON.stringify(pending) + '\n',
          );
        }
        continue;
      }
      if (!latest) continue;
      const filter = { chain: latest.chain, ...statusFilter(options.status) };
      for await (const outcome of ledger.outcomes(filter)) {
        process.stdout.write(format === 'csv' ? csvRow(outcome) : JSON.stringify(outcome) + '\n');
      }
    }
  } finally {
    await ledger.close();
  }
  return ExitCode.ok;
}

function statusFilter(status: string | undefined): { status?: RecordStatus | readonly RecordStatus[] } {
  if (status === undefined) return {};
  return { status: status === 'unverified' ? UNVERIFIED_STATUSES : (status as RecordStatus) };
}

/** Records the cell selects that have no outcome yet in its latest chain: what a resume would send. */
async function* pendingRecords(
  runbook: Runbook,
  cell: RunnableCell,
  done: ChainRecords,
  environment: string | undefined,
): AsyncGenerator<Partial<RecordOutcome>> {
  const job = resolveJob(runbook, cell);
  const subset = createSubsetFilter(cell.spec.subset, { baseDir: runbook.baseDir });
  // A database source reads with the latest run's environment and the secrets exported here.
  const vars = resolveEnvironment(runbook.header, environment || undefined).vars;
  const read = () =>
    openSource(job.source, {
      baseDir: runbook.baseDir,
      sourceLine: job.sourceLine,
      connection: { env: vars, secrets: new SecretResolver(process.env) },
      location: { file: runbook.file, cell: job.job, line: job.sourceLine },
    });
  // A count sample knows its records only once it has seen all of them, as in the runner.
  if (cell.spec.subset?.sample?.count !== undefined) {
    const validator = new RecordValidator(job.source, keyLimitsFrom());
    let candidates = 0;
    for await (const item of read()) {
      if (validator.needsRepeatedKeys) await giveRepeatedKeys(validator, read, keyLimitsFrom());
      const record = validator.check(item).valid;
      if (record && subset.includes(record)) candidates += 1;
    }
    subset.finish(candidates);
  }
  const validator = new RecordValidator(job.source, keyLimitsFrom());
  // A big chain is merged with the source by line rather than held as a Set of its keys.
  if (isMerged(done)) await done.prepare();
  for await (const item of read()) {
    if (validator.needsRepeatedKeys) await giveRepeatedKeys(validator, read, keyLimitsFrom());
    if (isMerged(done)) await done.reach(item.line);
    const record = validator.check(item).valid;
    if (record && subset.includes(record) && !done.has(record.key, record.line)) {
      yield {
        cell: cell.id,
        key: record.key,
        status: 'pending' as RecordOutcome['status'],
        line: record.line,
      };
    }
  }
}

function csvRow(outcome: RecordOutcome): string {
  return COLUMNS.map((column) => csvField(outcome[column])).join(',') + '\n';
}

function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
