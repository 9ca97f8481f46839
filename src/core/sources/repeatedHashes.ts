/**
 * The values that occur more than once in a stream of numbers of any length, found in a fixed amount of
 * memory: what repeatedKeys.ts asks of the hashes of a source's keys.
 *
 * Why numbers in typed arrays: a run of 500,000 (key, line) pairs as JS objects and strings held about
 * 250 MB of heap, most of which V8 kept after the pass, and the run's peak RSS was set by it. A key's
 * 52-bit hash is one float64: a run of a million is 8 MB outside the heap, sorted natively (a typed
 * array's own `sort`, no comparator), spilled as raw bytes, and freed the moment it is dropped.
 *
 * Runs are merged k ways with at most `fanIn` files open, in as many levels as that takes (100 million
 * values in runs of a million make 100 runs: two levels of 64), so a source of any size needs neither
 * more memory nor more open files. A source smaller than one run never touches the disk.
 *
 * This file cannot depend on the vscode API.
 */
import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RepeatedHashesOptions {
  /** Values sorted in memory per run (8 bytes each); tests make it small. */
  runSize?: number;
  /** Runs merged at once, so open files at once; tests make it small to force several levels. */
  fanIn?: number;
  /** Where the temporary folder of runs is made; the system's temporary folder by default. */
  tmpDir?: string;
}

/** 8 MB a run: a million values. */
export const DEFAULT_RUN_SIZE = 1_000_000;
/** Runs merged at once: 64 open files and 64 read blocks of 64 KB. */
export const DEFAULT_FAN_IN = 64;
/** Values read from (or written to) a run file at a time: 64 KB. */
const BLOCK_VALUES = 8192;

/**
 * The values `valueOf` gives more than once among `items` (read once, in any order). Temporary files
 * are removed before it resolves or rejects.
 */
export async function findRepeatedNumbers<T>(
  items: AsyncIterable<T> | Iterable<T>,
  valueOf: (item: T) => number,
  options: RepeatedHashesOptions = {},
): Promise<Set<number>> {
  const runSize = Math.max(1, options.runSize ?? DEFAULT_RUN_SIZE);
  const fanIn = Math.max(2, options.fanIn ?? DEFAULT_FAN_IN);
  let folder: string | undefined;
  let files = 0;
  const newFile = async () => {
    folder ??= await mkdtemp(join(options.tmpDir ?? tmpdir(), 'backfill-keys-'));
    return join(folder, `run-${files++}`);
  };
  try {
    let buffer = new Float64Array(Math.min(runSize, 65_536));
    let count = 0;
    let runs: string[] = [];
    for await (const item of items) {
      if (count === buffer.length) {
        if (count < runSize) {
          // Grows to the run size only when the source is that big: a small source stays small.
          const bigger = new Float64Array(Math.min(runSize, count * 2));
          bigger.set(buffer);
          buffer = bigger;
        } else {
          const file = await newFile();
          await writeFile(file, bytesOf(buffer.sort()));
          runs.push(file);
          count = 0;
        }
      }
      buffer[count++] = valueOf(item);
    }
    const last = buffer.subarray(0, count).sort();
    while (runs.length + 1 > fanIn) {
      const merged: string[] = [];
      for (let from = 0; from < runs.length; from += fanIn) {
        const group = runs.slice(from, from + fanIn);
        if (group.length === 1) {
          merged.push(group[0]!);
          continue;
        }
        const file = await newFile();
        await mergeToFile(group, file);
        await Promise.all(group.map((name) => rm(name, { force: true })));
        merged.push(file);
      }
      runs = merged;
    }
    const repeated = new Set<number>();
    let previous = Number.NaN;
    await mergeRuns(runs, last, (value) => {
      if (value === previous) repeated.add(value);
      previous = value;
    });
    return repeated;
  } finally {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  }
}

function bytesOf(values: Float64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Merges sorted run files into one sorted run file. */
async function mergeToFile(runs: readonly string[], file: string): Promise<void> {
  const out = await open(file, 'w');
  try {
    const block = new Float64Array(BLOCK_VALUES);
    let count = 0;
    await mergeRuns(runs, new Float64Array(0), (value) => {
      block[count++] = value;
      if (count < block.length) return undefined;
      count = 0;
      return out.write(bytesOf(block)).then(() => undefined);
    });
    if (count > 0) await out.write(bytesOf(block.subarray(0, count)));
  } finally {
    await out.close();
  }
}

/** One sorted run being read a block at a time (or held in memory: the last run). */
class RunReader {
  values: Float64Array;
  at = 0;
  count: number;
  private position = 0;

  constructor(
    private readonly handle: FileHandle | undefined,
    inMemory?: Float64Array,
  ) {
    this.values = inMemory ?? new Float64Array(BLOCK_VALUES);
    this.count = inMemory ? inMemory.length : 0;
  }

  get head(): number {
    return this.values[this.at]!;
  }

  /** Reads the next block; false when the run has ended. */
  async fill(): Promise<boolean> {
    this.at = 0;
    this.count = 0;
    if (!this.handle) return false;
    const bytes = new Uint8Array(this.values.buffer);
    const { bytesRead } = await this.handle.read(bytes, 0, bytes.length, this.position);
    this.position += bytesRead;
    this.count = Math.floor(bytesRead / 8);
    return this.count > 0;
  }
}

/**
 * Hands `emit` every value of the sorted runs (files, and one in memory) in ascending order, through a
 * binary heap of the runs' heads; at most `runs.length` files are open.
 */
async function mergeRuns(
  runs: readonly string[],
  inMemory: Float64Array,
  emit: (value: number) => Promise<void> | undefined | void,
): Promise<void> {
  const handles: FileHandle[] = [];
  try {
    const heap: RunReader[] = [];
    for (const run of runs) {
      const handle = await open(run, 'r');
      handles.push(handle);
      const reader = new RunReader(handle);
      if (await reader.fill()) heap.push(reader);
    }
    if (inMemory.length > 0) heap.push(new RunReader(undefined, inMemory));
    for (let at = (heap.length >> 1) - 1; at >= 0; at -= 1) siftDown(heap, at);
    while (heap.length > 0) {
      const top = heap[0]!;
      const writing = emit(top.head);
      if (writing) await writing;
      top.at += 1;
      if (top.at >= top.count && !(await top.fill())) {
        const last = heap.pop()!;
        if (heap.length === 0) break;
        heap[0] = last;
      }
      siftDown(heap, 0);
    }
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
  }
}

function siftDown(heap: RunReader[], from: number): void {
  let at = from;
  for (;;) {
    const left = at * 2 + 1;
    const right = left + 1;
    let least = at;
    if (left < heap.length && heap[left]!.head < heap[least]!.head) least = left;
    if (right < heap.length && heap[right]!.head < heap[least]!.head) least = right;
    if (least === at) return;
    [heap[least], heap[at]] = [heap[at]!, heap[least]!];
    at = least;
  }
}

/**
 * A 52-bit hash of a string, exact as a float64: two 32-bit multiplicative hashes of its UTF-16 code
 * units, each finished with MurmurHash3's mixer, 20 bits of one and 32 of the other. Collisions cost
 * only a second look (repeatedKeys.ts checks every candidate by its key), never a wrong answer: among
 * 100 million distinct keys about one pair is expected to collide.
 */
export function keyHash(key: string): number {
  let h1 = 0x811c9dc5 ^ key.length;
  let h2 = 0x9747b28c ^ key.length;
  for (let at = 0; at < key.length; at += 1) {
    const code = key.charCodeAt(at);
    h1 = Math.imul(h1 ^ code, 0x01000193);
    h2 = Math.imul(h2 ^ code, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  return (mix(h1) >>> 12) * 4294967296 + (mix(h2) >>> 0);
}

function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
