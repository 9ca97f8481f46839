/**
 * Selects the part of a source a cell works on: the first N records, listed keys, a key range, or a
 * seeded sample. Every choice is deterministic, so a dry run and the run after it select the very
 * same records, and the same seed selects the same sample next week.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Subset } from './subset';
import type { ValidRecord } from '../model/types';
import { UserError } from '../model/types';

/**
 * Decides which valid records a subset selects, in one pass in source order.
 *
 * While reading, `includes` says whether a record is a candidate. Some choices (a `count` sample, and
 * `first` applied to it) can only be made once every record was seen: `finish` makes them, and from
 * then on `includes` answers for the final selection, e.g. for a preview or a second pass.
 */
export interface SubsetFilter {
  includes(record: ValidRecord): boolean;
  /** Ends the reading pass; `candidates` is how many records `includes` accepted. Returns how many are selected. */
  finish(candidates: number): number;
}

/**
 * Builds the filter for `subset` (no subset selects everything). Filters apply in this order: `keys`
 * and `keysFile`, `exclude`, `range`, `sample.percent`, `sample.count`, then `first`.
 *
 * `range` bounds are inclusive and compare keys as numbers when both are whole numbers, as text
 * otherwise, so `from: "2", to: "10"` means what it says for numeric ids. `keysFile` (relative to
 * `baseDir`) lists one key per line; blank lines and lines starting with `#` are ignored.
 */
export function createSubsetFilter(subset: Subset | undefined, options: { baseDir: string }): SubsetFilter {
  const matches = recordPredicate(subset, options.baseDir);
  const { first } = subset ?? {};
  const count = subset?.sample?.count;
  if (count !== undefined) return new CountSampleFilter(matches, subset?.sample?.seed ?? 1, count, first);
  return new StreamingFilter(matches, first);
}

type Predicate = (record: ValidRecord) => boolean;

/** Everything but `first` and `sample.count`: choices made on one record alone. */
function recordPredicate(subset: Subset | undefined, baseDir: string): Predicate {
  if (!subset) return () => true;
  const checks: Predicate[] = [];
  const wanted = wantedKeys(subset, baseDir);
  if (wanted) checks.push((record) => wanted.has(record.key));
  if (subset.exclude) {
    const excluded = new Set(subset.exclude);
    checks.push((record) => !excluded.has(record.key));
  }
  const { from, to } = subset.range ?? {};
  if (from !== undefined) checks.push((record) => compareKeys(record.key, from) >= 0);
  if (to !== undefined) checks.push((record) => compareKeys(record.key, to) <= 0);
  if (subset.sample) {
    const { percent, count, seed } = subset.sample;
    if (percent === undefined && count === undefined) {
      throw new UserError('subset.sample needs a count or a percent');
    }
    if (percent !== undefined) checks.push((record) => sampleRank(seed, record.key) < percent / 100);
  }
  return (record) => checks.every((check) => check(record));
}

function wantedKeys(subset: Subset, baseDir: string): Set<string> | undefined {
  if (!subset.keys && subset.keysFile === undefined) return undefined;
  const keys = new Set(subset.keys ?? []);
  if (subset.keysFile !== undefined) {
    for (const key of readKeysFile(resolve(baseDir, subset.keysFile))) keys.add(key);
  }
  return keys;
}

function readKeysFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read subset.keysFile ${path}: ${(error as Error).message}`);
  }
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Passes matching records, up to `first` of them. */
class StreamingFilter implements SubsetFilter {
  private accepted = 0;
  /** Line of the last record `first` lets through, once reached; later lines are outside the subset. */
  private lastLine = Infinity;

  constructor(
    private readonly matches: Predicate,
    private readonly first: number | undefined,
  ) {}

  includes(record: ValidRecord): boolean {
    if (!this.matches(record) || record.line > this.lastLine) return false;
    if (this.first !== undefined && this.accepted < this.first) {
      this.accepted += 1;
      if (this.accepted === this.first) this.lastLine = record.line;
    }
    return true;
  }

  finish(candidates: number): number {
    return candidates;
  }
}

interface Ranked {
  rank: number;
  key: string;
  line: number;
}

/**
 * Keeps the `count` matching records with the lowest seeded rank: a uniform sample whose membership
 * does not depend on the order records arrive in, in memory proportional to `count`.
 */
class CountSampleFilter implements SubsetFilter {
  /** Lowest ranks so far, in ascending rank order. */
  private kept: Ranked[] = [];
  private selected: Set<string> | undefined;

  constructor(
    private readonly matches: Predicate,
    private readonly seed: number,
    private readonly count: number,
    private readonly first: number | undefined,
  ) {}

  includes(record: ValidRecord): boolean {
    if (!this.matches(record)) return false;
    if (this.selected) return this.selected.has(record.key);
    this.keep({ rank: sampleRank(this.seed, record.key), key: record.key, line: record.line });
    return true;
  }

  finish(_candidates: number): number {
    const inSourceOrder = [...this.kept].sort((a, b) => a.line - b.line);
    this.selected = new Set(inSourceOrder.slice(0, this.first).map((ranked) => ranked.key));
    return this.selected.size;
  }

  private keep(candidate: Ranked): void {
    const last = this.kept[this.kept.length - 1];
    if (this.kept.length === this.count && last && byRank(candidate, last) >= 0) return;
    this.kept.splice(this.insertionIndex(candidate), 0, candidate);
    if (this.kept.length > this.count) this.kept.pop();
  }

  /** Binary search: a large `count` over millions of records must not cost a scan per record. */
  private insertionIndex(candidate: Ranked): number {
    let low = 0;
    let high = this.kept.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (byRank(this.kept[middle] as Ranked, candidate) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

function byRank(a: Ranked, b: Ranked): number {
  return a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** A stable pseudo-random number in [0, 1) for a key: the same seed and key always give the same rank. */
export function sampleRank(seed: number, key: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${key}`).digest();
  // 48 bits are plenty to order a few billion keys and stay exact in a double.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

const WHOLE_NUMBER = /^(0|[1-9]\d*)$/;

/** Orders keys: whole numbers numerically (by length, then digits, so any size works), others as text. */
export function compareKeys(a: string, b: string): number {
  if (WHOLE_NUMBER.test(a) && WHOLE_NUMBER.test(b) && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
