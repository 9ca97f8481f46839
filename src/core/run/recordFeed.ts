/**
 * The record feed: reads the job's source once, record by record, and hands the dispatcher what this run
 * must attempt — valid, selected (subset, re-run list), not finished by an earlier run of the chain,
 * rendered for its attempt with its idempotency key — in batches of the strategy's size. Malformed and
 * unrenderable records are reported as rejected, finished ones (by this chain, or delivered by another
 * execute cell: deliveredElsewhere.ts) as skipped. This file cannot depend on
 * the vscode API.
 */
import { idempotencyKeyFor } from '../dryrun/dryRun';
import type { ResolvedJob } from '../job/job';
import { openSource, type OpenSourceOptions } from '../sources/openSource';
import { hasMoreLinesThan, locateSourceFile } from '../sources/sourceFile';
import type { ChunkReading } from '../fleet/chunkReading';
import { DEFAULT_KEYS_REMEMBERED, RecordValidator } from '../sources/recordValidator';
import { sourceKindOf } from '../sources/sourceKinds';
import { findRepeatedKeys, giveRepeatedKeys, keysAtLines, type RepeatedKeys } from '../sources/repeatedKeys';
import { readRepeatedKeys, writeRepeatedKeys } from '../sources/repeatedKeysCache';
import type { SubsetFilter } from '../sources/subsetFilter';
import type { SourceItem } from '../model/types';
import type { AttemptStrategy, PreparedUnit } from '../attempts/attemptStrategy';
import { hasMalformed, isMerged, type ChainRecords } from '../ledger/chainRecords';
import type { KeyMemory } from './keyMemory';
import type { FeedSeek, SegmentMarkBook } from './feedSeek';
import { deliveredBy } from './deliveredElsewhere';
import type { SelectionAccounting } from './selectionAccounting';
import { idempotencyScope, type ResumePlan } from './resumePlan';
import type { RunKind } from './verdict';

export interface FeedInput<U extends PreparedUnit> {
  job: Pick<ResolvedJob, 'source' | 'sourceLine' | 'subset'>;
  baseDir: string;
  /** What a database source needs besides the folder: the run's vars and secrets, where errors point. */
  sourceOptions?: Pick<OpenSourceOptions, 'connection' | 'location'>;
  /** The runbook's name: idempotency keys derive from it. */
  runbookName: string;
  kind: RunKind;
  /** The job's combined fingerprint: idempotency keys derive from it. */
  fingerprint: string;
  plan: ResumePlan;
  subset: SubsetFilter;
  strategy: Pick<AttemptStrategy<U>, 'prepare' | 'batchSize'>;
  /** Counts what is read and set aside, so the run can prove every selected record has an outcome. */
  accounting: SelectionAccounting;
  /** Tests only, never set by the CLI or the extension: the feed forgets the records it names. */
  dropRecord?: (key: string) => boolean;
  /** The source, opened already (its first item read ahead: {@link readAhead}); opened here otherwise. */
  items?: AsyncIterable<SourceItem>;
  /**
   * Reads the source through this instead (a worker's chunks: fleet/chunkWork.ts); `open` opens it afresh,
   * from its start, a range of a database's keys only, or from a line start of its file.
   */
  readThrough?: (open: (where?: ChunkReading) => AsyncIterable<SourceItem>) => AsyncIterable<SourceItem>;
  /** How the feed finds repeated keys in bounded memory (sources/repeatedKeys.ts); tests make it small. */
  keys?: KeyMemory;
  /** A whole run of a seekable file source: where it starts reading, and the marks it takes (feedSeek.ts). */
  seek?: FeedSeek;
}

/** Where the feed sends units: the dispatcher. */
export interface FeedTarget<U> {
  readonly stopSignal: AbortSignal;
  trySend(units: U[]): boolean;
  dispatch(units: U[]): Promise<boolean>;
}

/** What the feed reports besides the units it sends. */
export interface FeedSink {
  /** A record an earlier run of the chain finished, or (`by`) another execute cell delivered. */
  skipped(by?: string): void;
  /** A record refused before any attempt: malformed, or its attempt could not be rendered. */
  rejected(key: string, line: number, reason: string): void;
}

/**
 * Feeds the source's records to `target` until the source ends or the target stops. Returns once the
 * last unit is handed over, not once it has an outcome.
 */
export async function feedRecords<U extends PreparedUnit>(
  input: FeedInput<U>,
  target: FeedTarget<U>,
  given: FeedSink,
): Promise<void> {
  const { job, plan, subset, strategy, accounting } = input;
  const book = input.seek?.book;
  const sink = book ? owingSink(given, book) : given;
  const open = (where?: ChunkReading) => openFeedSource(input, where);
  const stream = input.readThrough ? input.readThrough(open) : (input.items ?? open());
  const validator = new RecordValidator(job.source, { keysRemembered: input.keys?.keysRemembered });
  const onlyKeys = plan.rerun?.keys;
  const doneKeys = plan.doneKeys;
  const delivered = plan.delivered;
  const keyScope = idempotencyScope(input.fingerprint, plan.rerun);
  const verifying = input.kind === 'verify';
  const batchSize = strategy.batchSize;
  const stopped = target.stopSignal;
  let batch: U[] = [];
  const finishedAsRead = finishedByRawKey(job.source.key, doneKeys, !onlyKeys && !job.subset);
  // A big chain is merged with the source by line (ledger/chainRecords.ts).
  const merged = [onlyKeys ?? doneKeys, ...delivered.map((entry) => entry.keys)].filter(isMerged);
  const mergedByKey = merged.length > 0 && sourceKindOf(job.source).uniqueKeys === true;
  for (const records of merged) await records.prepare();
  const from = input.seek?.from;
  if (from) {
    // What the seek reads past is finished, every item of it: skipped, as a walk would count them.
    for (const records of merged) records.skipTo?.(from.line);
    accounting.passed(input.seek!.skippedBefore);
    for (let n = 0; n < input.seek!.skippedBefore; n += 1) given.skipped();
  }
  let readToEnd = true;
  try {
    for await (const item of stream) {
      accounting.counted();
      if (stopped.aborted) {
        readToEnd = false;
        break;
      }
      const marking = book?.reading(item.line);
      if (marking) await marking;
      // Records merged by key (a database source) look a moved key up: they need the key it will be asked with.
      const key = mergedByKey ? validator.keyOf(item) : undefined;
      for (const records of merged) {
        const reading = records.reach(item.line, key);
        if (reading) await reading;
      }
      if (validator.needsRepeatedKeys) validator.useRepeatedKeys(await repeatedKeysOf(input, validator));
      const finishedKey = finishedAsRead(item);
      if (finishedKey !== undefined) {
        if (validator.skipUnchecked(finishedKey, item.line)) sink.skipped();
        else accounting.onOutside();
        continue;
      }
      const checked = validator.check(item);
      if (checked.rejected) {
        const key = checked.rejected.key ?? `line:${checked.rejected.line}`;
        // A cell with a subset, or a re-run list, selects among valid records only, so the source's
        // malformed records are not part of its selection (the dry run reports them). Rejections are
        // deterministic: one this chain already recorded is skipped like any finished record — a row
        // with no key (recorded as line:N) never reaches the shortcut above, and was once left out of
        // the skipped count ("1,362 skipped" when 1,364 were done).
        if (onlyKeys || job.subset) accounting.onOutside();
        else if (await hasMalformed(doneKeys, key, checked.rejected.line)) sink.skipped();
        else sink.rejected(key, checked.rejected.line, checked.rejected.reason);
        continue;
      }
      // A duplicate key (the first occurrence is the one sent), or a record outside the subset.
      if (!checked.valid || !subset.includes(checked.valid)) {
        accounting.onOutside();
        continue;
      }
      const record = checked.valid;
      if (onlyKeys ? !onlyKeys.has(record.key, record.line) : doneKeys.has(record.key, record.line)) {
        if (!onlyKeys) sink.skipped();
        else accounting.onOutside();
        continue;
      }
      const elsewhere = delivered.length > 0 ? deliveredBy(delivered, record.key, record.line) : undefined;
      if (elsewhere !== undefined) {
        sink.skipped(elsewhere);
        continue;
      }
      const idempotencyKey = verifying ? '' : idempotencyKeyFor(input.runbookName, keyScope, record.key);
      const prepared = strategy.prepare(record, idempotencyKey);
      if (!prepared.ok) {
        sink.rejected(record.key, record.line, prepared.reason);
        continue;
      }
      // Owed before a test's drop: a dropped record leaves its segment short of what it owed.
      book?.owe();
      if (input.dropRecord?.(record.key)) continue;
      batch.push(prepared.value);
      if (batch.length < batchSize) continue;
      if (!target.trySend(batch) && !(await target.dispatch(batch))) {
        readToEnd = false;
        break;
      }
      batch = [];
    }
    if (readToEnd) accounting.ended();
    if (readToEnd && !stopped.aborted) await book?.ended();
    if (batch.length > 0 && !stopped.aborted && !target.trySend(batch)) {
      await target.dispatch(batch);
    }
  } catch (error) {
    if (!stopped.aborted) throw error;
  }
}

/** The sink that also tells `book` which items were owed an outcome: skipped as finished, or rejected. */
function owingSink(sink: FeedSink, book: SegmentMarkBook): FeedSink {
  return {
    skipped: (by) => {
      if (by === undefined) book.owe();
      sink.skipped(by);
    },
    rejected: (key, line, reason) => {
      book.owe();
      sink.rejected(key, line, reason);
    },
  };
}

/**
 * Opens the job's source as the pass that sends records reads it; `where` reads one range of a database's
 * keys, or a file from one of its line starts (a worker's chunk: fleet/chunkWork.ts).
 */
export function openFeedSource(
  input: Pick<FeedInput<PreparedUnit>, 'job' | 'baseDir' | 'sourceOptions' | 'seek'>,
  where: ChunkReading = {},
): AsyncIterable<SourceItem> {
  const seek = input.seek;
  // The pass that sends records may last hours: a database source reads it page by page, in no snapshot.
  // A chunk's start and a resume's marks never meet: a run shared by workers takes no marks (feedSeek.ts).
  return openSource(input.job.source, {
    baseDir: input.baseDir,
    sourceLine: input.job.sourceLine,
    ...input.sourceOptions,
    snapshot: false,
    ...(where.keys ? { keyRange: where.keys } : {}),
    ...(where.from
      ? { seek: { from: where.from } }
      : seek
        ? { seek: { ...(seek.from ? { from: seek.from } : {}), marks: seek.book.sourceMarks() } }
        : {}),
  });
}

/** A source whose first item was read ahead; `close` ends the reading when nobody iterates it to the end. */
export interface ReadAhead<T> extends AsyncIterable<T> {
  close(): Promise<void>;
}

/**
 * Reads the first item of `items` now — for a file source the part that can refuse the whole source (a
 * CSV header, a JSON file that is no array) — and yields it first when iterated, then the rest. Can be
 * iterated once.
 */
export async function readAhead<T>(items: AsyncIterable<T>): Promise<ReadAhead<T>> {
  const iterator = items[Symbol.asyncIterator]();
  const first = await iterator.next();
  let pending: IteratorResult<T> | undefined = first;
  let closed = first.done === true;
  const close = async () => {
    if (closed) return;
    closed = true;
    await iterator.return?.();
  };
  const ahead: AsyncIterator<T> = {
    next: () => {
      const result = pending;
      pending = undefined;
      return result ? Promise.resolve(result) : iterator.next();
    },
    return: async () => {
      await close();
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => ahead, close };
}

/**
 * A count sample decides its records only after seeing all of them: read the source once first.
 * Returns how many records the sample selects.
 */
export async function prepareSubset(
  job: Pick<ResolvedJob, 'source' | 'sourceLine'>,
  baseDir: string,
  subset: SubsetFilter,
  sourceOptions: Pick<OpenSourceOptions, 'connection' | 'location'> = {},
  keys: KeyMemory = {},
): Promise<number> {
  const validator = new RecordValidator(job.source, { keysRemembered: keys.keysRemembered });
  let candidates = 0;
  const read = { baseDir, sourceLine: job.sourceLine, ...sourceOptions };
  for await (const item of openSource(job.source, read)) {
    if (validator.needsRepeatedKeys)
      await giveRepeatedKeys(validator, () => openSource(job.source, read), keys);
    const checked = validator.check(item);
    if (checked.valid && subset.includes(checked.valid)) candidates += 1;
  }
  return subset.finish(candidates);
}

/**
 * A resume's shortcut past the finished part of the source: the key of a record whose key, exactly as
 * read, is the key of a finished record — skipped without typing and validating it (600,000 such
 * records cost half a second). Only a string exactly as read counts: a key that typing would change
 * ("007" as an integer) takes the full path, whose result is the same, only slower. Not with a subset
 * or a re-run list, which choose records by their typed values.
 */
function finishedByRawKey(
  keyField: string,
  doneKeys: ChainRecords,
  applies: boolean,
): (item: SourceItem) => string | undefined {
  if (!applies || doneKeys.size === 0) return () => undefined;
  return (item) => {
    if (item.kind !== 'record' || !Object.hasOwn(item.fields, keyField)) return undefined;
    const raw = item.fields[keyField];
    return typeof raw === 'string' && doneKeys.has(raw, item.line, true) ? raw : undefined;
  };
}

/**
 * The keys the job's source holds on several lines: from the state folder when this very source's were
 * kept there, else found by one more pass over the source in bounded memory (repeatedKeys.ts) and kept.
 */
async function repeatedKeysOf(
  input: Pick<FeedInput<PreparedUnit>, 'job' | 'baseDir' | 'sourceOptions' | 'fingerprint' | 'keys'>,
  validator: RecordValidator,
): Promise<RepeatedKeys> {
  const cacheFile = input.keys?.cacheFile;
  const cached = cacheFile === undefined ? undefined : await readRepeatedKeys(cacheFile, input.fingerprint);
  if (cached) return cached;
  const items = () =>
    openSource(input.job.source, {
      baseDir: input.baseDir,
      sourceLine: input.job.sourceLine,
      ...input.sourceOptions,
      snapshot: false,
    });
  const found = await findRepeatedKeys(
    () => keysAtLines(items(), (item) => validator.keyOf(item)),
    input.keys?.runSize === undefined ? {} : { runSize: input.keys.runSize },
  );
  if (cacheFile !== undefined) await writeRepeatedKeys(cacheFile, input.fingerprint, found);
  return found;
}

/** The sources cheap enough to read once more before a run: local files and the runbook's own records. */
const COUNTABLE_SOURCES: ReadonlySet<string> = new Set(['csv', 'jsonl', 'json', 'inline', 'sqlite']);

/** The sources that hold at most one record per line (a CSV's header aside). */
function isLineSource(
  source: ResolvedJob['source'],
): source is Extract<ResolvedJob['source'], { path: string }> {
  return (source.type === 'csv' || source.type === 'jsonl') && 'path' in source;
}

/** Records a plan-line count reads at most before it gives up: about a second of reading. */
export const PLAN_COUNT_LIMIT = 1_000_000;

/**
 * Valid records of the job's source, counted before a run that no dry run of the same data counted, so
 * the plan line says a real number instead of "all selected". Streaming, one record at a time, with the
 * validator's bounded key memory; undefined — the plan then says the count is unknown until read — for
 * a database or a command (reading them costs the source), past `limit` records, or when telling
 * repeated keys apart would take the big-source pass.
 */
export async function countValidRecords(
  job: Pick<ResolvedJob, 'source' | 'sourceLine'>,
  baseDir: string,
  sourceOptions: Pick<OpenSourceOptions, 'connection' | 'location'> = {},
  keys: KeyMemory = {},
  limit = PLAN_COUNT_LIMIT,
  /** Distinct keys already known to be valid (a resumed chain's outcomes other than rejections). */
  knownValid = 0,
): Promise<number | undefined> {
  if (!COUNTABLE_SOURCES.has(job.source.type)) return undefined;
  const remembered = keys.keysRemembered ?? DEFAULT_KEYS_REMEMBERED;
  // More valid keys than the validator holds: reading would give up at that many, and say the same.
  if (knownValid > remembered) return undefined;
  // A file of more lines than that is, but for rare sources mostly made of bad rows, one whose count
  // would give up the same way after a second of parsing and validating: a newline scan says so first.
  if (
    isLineSource(job.source) &&
    hasMoreLinesThan(locateSourceFile(job.source.path, baseDir).path, remembered + 1)
  ) {
    return undefined;
  }
  const validator = new RecordValidator(job.source, { keysRemembered: keys.keysRemembered });
  const read = { baseDir, sourceLine: job.sourceLine, ...sourceOptions };
  let seen = 0;
  let valid = 0;
  for await (const item of openSource(job.source, read)) {
    seen += 1;
    if (seen > limit || validator.needsRepeatedKeys) return undefined;
    if (validator.check(item).valid) valid += 1;
  }
  return valid;
}
