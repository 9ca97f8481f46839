/**
 * The keys a source holds on more than one line, found in bounded memory: what lets the record validator
 * (recordValidator.ts) and a resume's merge with the ledger (run/chainCursor.ts) remember only those
 * keys instead of every key of a 100-million-record source.
 *
 * Why an external sort and not a fingerprint filter: the answer must be exact (the dry run and the run
 * reject exactly the same lines), and a filter's false positives can only be confirmed against the keys
 * seen earlier, which is the very set that does not fit. Sorting (key, line) pairs in runs of bounded
 * size, spilling each run to a temporary file, then merging the runs k ways yields every repeated key
 * exactly, with its lines, holding one run in memory. A source smaller than one run never touches the
 * disk. Repeated keys are few in practice (they are data errors); a source made mostly of repeats would
 * hold them all, which the caller accepts as the size of what it must report anyway.
 *
 * This file cannot depend on the vscode API.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { SourceItem } from '../model/types';
import type { KeyLimits } from './keyLimits';
import type { RecordValidator } from './recordValidator';

/** A record's key and the line it is on. */
export interface KeyAtLine {
  key: string;
  line: number;
}

/** Keys found on more than one line, each with its lines in ascending order. */
export type RepeatedKeys = ReadonlyMap<string, readonly number[]>;

export interface RepeatedKeysOptions {
  /** Pairs held in memory before a sorted run is spilled to disk (tests make it small). */
  runSize?: number;
  /** Where the temporary folder of runs is made; the system's temporary folder by default. */
  tmpDir?: string;
}

/** About 100 bytes a pair in memory: a run of this size stays near 50 MB. */
export const DEFAULT_RUN_SIZE = 500_000;

/**
 * The repeated keys among `pairs`, read once in any order. Temporary files are removed before it
 * resolves or rejects.
 */
export async function findRepeatedKeys(
  pairs: AsyncIterable<KeyAtLine> | Iterable<KeyAtLine>,
  options: RepeatedKeysOptions = {},
): Promise<Map<string, number[]>> {
  const runSize = Math.max(1, options.runSize ?? DEFAULT_RUN_SIZE);
  let buffer: KeyAtLine[] = [];
  let folder: string | undefined;
  const runs: string[] = [];
  try {
    for await (const pair of pairs) {
      buffer.push(pair);
      if (buffer.length < runSize) continue;
      folder ??= await mkdtemp(join(options.tmpDir ?? tmpdir(), 'backfill-keys-'));
      const file = join(folder, `run-${runs.length}`);
      await writeRun(file, sortRun(buffer));
      runs.push(file);
      buffer = [];
    }
    const last = sortRun(buffer);
    buffer = [];
    return await collectRepeats(mergeRuns([...runs.map(readRun), inMemory(last)]));
  } finally {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  }
}

/** The (key, line) of each keyed item, as `keyOf` derives keys (RecordValidator.keyOf). */
export async function* keysAtLines(
  items: AsyncIterable<SourceItem>,
  keyOf: (item: SourceItem) => string | undefined,
): AsyncGenerator<KeyAtLine> {
  for await (const item of items) {
    const key = keyOf(item);
    if (key !== undefined) yield { key, line: item.line };
  }
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
  const pairs = keysAtLines(reopen(), (item) => validator.keyOf(item));
  validator.useRepeatedKeys(
    await findRepeatedKeys(pairs, limits.runSize === undefined ? {} : { runSize: limits.runSize }),
  );
}

/** By key (UTF-16 code units, the same order everywhere in this file), then by line. */
function compare(a: KeyAtLine, b: KeyAtLine): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.line - b.line;
}

function sortRun(pairs: KeyAtLine[]): KeyAtLine[] {
  return pairs.sort(compare);
}

/** One pair a line: the key as JSON (which escapes tabs and line breaks), a tab, the line. */
async function writeRun(file: string, pairs: readonly KeyAtLine[]): Promise<void> {
  const out = createWriteStream(file);
  const chunk = 4096;
  for (let from = 0; from < pairs.length; from += chunk) {
    let text = '';
    for (const pair of pairs.slice(from, from + chunk)) text += `${JSON.stringify(pair.key)}\t${pair.line}\n`;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

async function* readRun(file: string): AsyncGenerator<KeyAtLine> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    const tab = text.lastIndexOf('\t');
    yield { key: JSON.parse(text.slice(0, tab)) as string, line: Number(text.slice(tab + 1)) };
  }
}

async function* inMemory(pairs: readonly KeyAtLine[]): AsyncGenerator<KeyAtLine> {
  yield* pairs;
}

/** The runs' pairs in one sorted sequence: a k-way merge through a binary heap of each run's head. */
async function* mergeRuns(runs: AsyncGenerator<KeyAtLine>[]): AsyncGenerator<KeyAtLine> {
  const heap: { pair: KeyAtLine; run: AsyncGenerator<KeyAtLine> }[] = [];
  const push = (entry: (typeof heap)[number]) => {
    heap.push(entry);
    let at = heap.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (compare(heap[parent]!.pair, heap[at]!.pair) <= 0) break;
      [heap[parent], heap[at]] = [heap[at]!, heap[parent]!];
      at = parent;
    }
  };
  const pop = () => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let at = 0;
      for (;;) {
        const left = at * 2 + 1;
        const right = left + 1;
        let least = at;
        if (left < heap.length && compare(heap[left]!.pair, heap[least]!.pair) < 0) least = left;
        if (right < heap.length && compare(heap[right]!.pair, heap[least]!.pair) < 0) least = right;
        if (least === at) break;
        [heap[least], heap[at]] = [heap[at]!, heap[least]!];
        at = least;
      }
    }
    return top;
  };
  for (const run of runs) {
    const first = await run.next();
    if (!first.done) push({ pair: first.value, run });
  }
  while (heap.length > 0) {
    const { pair, run } = pop();
    yield pair;
    const next = await run.next();
    if (!next.done) push({ pair: next.value, run });
  }
}

/** Groups the sorted pairs by key and keeps the keys on more than one line. */
async function collectRepeats(sorted: AsyncIterable<KeyAtLine>): Promise<Map<string, number[]>> {
  const repeats = new Map<string, number[]>();
  let key: string | undefined;
  let lines: number[] = [];
  const close = () => {
    if (key !== undefined && lines.length > 1) repeats.set(key, lines);
  };
  for await (const pair of sorted) {
    if (pair.key !== key) {
      close();
      key = pair.key;
      lines = [];
    }
    lines.push(pair.line);
  }
  close();
  return repeats;
}
