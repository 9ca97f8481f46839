/**
 * The keys a source holds on more than one line, found in bounded memory: what lets the record validator
 * (recordValidator.ts) and a resume's merge with the ledger (run/chainCursor.ts) remember only those
 * keys instead of every key of a 100-million-record source.
 *
 * Why hashes first, then keys: the answer must be exact (the dry run and the run reject exactly the same
 * lines), but the keys themselves, as JS strings in sorted runs, cost about 100 bytes each on the heap.
 * So the first pass sorts only each key's 52-bit hash, in typed arrays spilled to disk (8 bytes a key,
 * repeatedHashes.ts), and keeps the hashes seen more than once. A repeated key always repeats its hash,
 * so no repeated key is missed; a hash shared by different keys only makes them candidates. When there
 * are candidates, a second pass reads the source again and groups the candidates' lines by the key itself,
 * so no repeat is invented. A source without repeated keys (the normal case: they are data errors) is
 * read once, and at 100 million keys a collision of distinct keys is about as likely as not.
 *
 * Repeated keys are few in practice; a source made mostly of repeats holds them all, which the caller
 * accepts as the size of what it must report anyway.
 *
 * This file cannot depend on the vscode API.
 */
import type { SourceItem } from '../model/types';
import type { KeyLimits } from './keyLimits';
import type { RecordValidator } from './recordValidator';
import { findRepeatedNumbers, keyHash, type RepeatedHashesOptions } from './repeatedHashes';

/** A record's key and the line it is on. */
export interface KeyAtLine {
  key: string;
  line: number;
}

/** Keys found on more than one line, each with its lines in ascending order. */
export type RepeatedKeys = ReadonlyMap<string, readonly number[]>;

export interface RepeatedKeysOptions extends RepeatedHashesOptions {
  /** The hash the first pass sorts (tests make keys collide on purpose). */
  hash?: (key: string) => number;
}

export { DEFAULT_RUN_SIZE } from './repeatedHashes';

/**
 * The repeated keys among the pairs `read` yields, in any order; `read` is called once, and once more
 * when the hashes of different keys may coincide. Temporary files are removed before it resolves or
 * rejects.
 */
export async function findRepeatedKeys(
  read: () => AsyncIterable<KeyAtLine> | Iterable<KeyAtLine>,
  options: RepeatedKeysOptions = {},
): Promise<Map<string, number[]>> {
  const hash = options.hash ?? keyHash;
  const candidates = await findRepeatedNumbers(read(), (pair) => hash(pair.key), options);
  const repeats = new Map<string, number[]>();
  if (candidates.size === 0) return repeats;
  const lines = new Map<string, number[]>();
  for await (const { key, line } of read()) {
    if (!candidates.has(hash(key))) continue;
    const found = lines.get(key);
    if (found) found.push(line);
    else lines.set(key, [line]);
  }
  for (const [key, found] of lines) {
    if (found.length > 1)
      repeats.set(
        key,
        found.sort((a, b) => a - b),
      );
  }
  return repeats;
}

/**
 * The (key, line) of each keyed item, as `keyOf` derives keys (RecordValidator.keyOf). A plain iterator,
 * not an async generator: one callback per item instead of a generator step (this pass reads every line
 * of a big source once more).
 */
export function keysAtLines(
  items: AsyncIterable<SourceItem>,
  keyOf: (item: SourceItem) => string | undefined,
): AsyncIterable<KeyAtLine> {
  const iterator = items[Symbol.asyncIterator]();
  const pairOf = (
    read: IteratorResult<SourceItem>,
  ): IteratorResult<KeyAtLine> | Promise<IteratorResult<KeyAtLine>> => {
    if (read.done) return { done: true, value: undefined };
    const key = keyOf(read.value);
    return key === undefined ? next() : { done: false, value: { key, line: read.value.line } };
  };
  const next = (): Promise<IteratorResult<KeyAtLine>> => iterator.next().then(pairOf);
  const pairs: AsyncIterator<KeyAtLine> = {
    next,
    return: async () => {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => pairs };
}

/**
 * Hands `validator` the repeated keys of its whole source, read once more through `reopen` and sorted
 * within `limits`. Call it when `validator.needsRepeatedKeys` says so (a check of the flag is cheap, a
 * call per record is not).
 */
export async function giveRepeatedKeys(
  validator: Pick<RecordValidator, 'keyOf' | 'useRepeatedKeys'>,
  reopen: () => AsyncIterable<SourceItem>,
  limits: KeyLimits = {},
): Promise<void> {
  const pairs = () => keysAtLines(reopen(), (item) => validator.keyOf(item));
  validator.useRepeatedKeys(
    await findRepeatedKeys(pairs, limits.runSize === undefined ? {} : { runSize: limits.runSize }),
  );
}
