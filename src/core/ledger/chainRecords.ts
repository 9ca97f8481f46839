/**
 * The records of a chain a run decides on by their latest status — finished (a resume skips them),
 * failed (`--only failed` re-runs them), delivered by another cell — without a Set of every key.
 *
 * A chain of a few hundred thousand records is read as a Set of keys, as always. A bigger one is merged
 * with the source instead: the run reads the source in line order, and the chain's outcomes come from
 * the ledger in line order too ({@link Ledger.outcomePlaces}), a page at a time, so deciding "is the
 * record at line L with key K one of them" only needs the outcomes near line L.
 *
 * Why comparing lines is exact: a chain's source is fixed (its fingerprint holds the source's content
 * hash, and a resume with other data is refused, resumePlan.ts `chooseChain`), and a record's outcome is
 * recorded at the line it was read from, so an outcome at a line whose record has another key means the
 * lines moved under the chain: the run stops and says so rather than guess. A key's one outcome may sit
 * at another of its lines only through a malformed row carrying the key (a duplicate of a valid row is
 * never recorded): the later line's outcome replaces the earlier one's. So the decisions that look
 * elsewhere are few and exact:
 * - a valid row whose outcome sits at a later malformed row of its key: that row's rejection is read up
 *   front (the chain's `rejected` outcomes, as many as its malformed rows) — the row was reached;
 * - a malformed row with a key and no outcome at its line ({@link MergedRecords.hasMalformed}): it was
 *   reached when the chain has outcomes at later lines (rows are fed in line order and a rejection is
 *   recorded as its row is read, before any later row's outcome), so a later row of its key replaced it;
 * - a row skipped on its key as read, before any check, only when the chain's outcome at its line is no
 *   rejection: a malformed row must be checked to be counted as one.
 *
 * Pages are read whole and never held open across a write (the Ledger contract), so the run records
 * outcomes while its feed reads ahead. This file cannot depend on the vscode API.
 */
import { KeyFilter } from './keyFilter';
import type { Ledger, OutcomePlace } from './ledger';
import { RECORD_STATUSES, type RecordStatus } from '../model/runs';
import { UserError } from '../model/types';

/**
 * Records chosen by their latest status in a chain: how many, and whether the record at `line` with
 * `key` is one of them. Lines are asked in ascending order. A Set of keys is one (it ignores the line).
 */
export interface ChainRecords {
  readonly size: number;
  /**
   * `asRead`: the key exactly as read, before typing ("007" for the integer 7): a miss only means the
   * full check decides, never that the source changed.
   */
  has(key: string, line: number, asRead?: boolean): boolean;
}

/** Chains with at most this many records are read as a Set of keys (tests lower it). */
export const DEFAULT_KEYS_IN_MEMORY = 250_000;

/** Places read from the ledger at a time; it grows to the largest page while the source is read. */
const FIRST_PAGE = 4_096;
const LARGEST_PAGE = 65_536;

/** The records of `chain` whose latest status is one of `statuses`: a Set when few, merged when many. */
export async function readChainRecords(
  ledger: Pick<Ledger, 'keysWithStatus' | 'outcomePlaces' | 'outcomeOf' | 'outcomes'>,
  chain: string,
  statuses: readonly RecordStatus[],
  count: number,
  keysInMemory = DEFAULT_KEYS_IN_MEMORY,
  byKey = false,
): Promise<ChainRecords> {
  if (count <= keysInMemory) return await ledger.keysWithStatus(chain, statuses);
  return new MergedChainRecords(ledger, chain, statuses, count, byKey);
}

/**
 * Records a merge with the ledger decides: the feed prepares them before the first record, and before
 * each record lets them read up to its line.
 */
export interface MergedRecords extends ChainRecords {
  prepare(): Promise<void>;
  /**
   * Undefined when `has` can answer at `line` now, else the read that makes it able to. `key` is the
   * key the record at `line` will be asked with (its typed key), for records merged by key.
   */
  reach(line: number, key?: string): Promise<void> | undefined;
  /** {@link ChainRecords.has} for a malformed row that has a key: its key may have its outcome elsewhere. */
  hasMalformed(key: string, line: number): Promise<boolean>;
  /** The source is read from `line` on (a resume's seek): the outcomes before it need not be read. */
  skipTo?(line: number): void;
}

export function isMerged(records: ChainRecords): records is MergedRecords {
  return 'reach' in records && 'hasMalformed' in records;
}

/** Whether the malformed row at `line` with `key` (`line:N` when it has none) is one of `records`. */
export async function hasMalformed(records: ChainRecords, key: string, line: number): Promise<boolean> {
  return isMerged(records) ? await records.hasMalformed(key, line) : records.has(key, line);
}

/**
 * Every place of a chain in line order, read a page at a time: each page is read whole, so the caller
 * may ask the ledger other things between two places.
 */
export async function* placesOf(
  ledger: Pick<Ledger, 'outcomePlaces'>,
  chain: string,
): AsyncGenerator<OutcomePlace> {
  let after: { line: number; key: string } | undefined;
  for (;;) {
    const page = await ledger.outcomePlaces(chain, after, LARGEST_PAGE / 8);
    if (page.length === 0) return;
    after = page.at(-1);
    yield* page;
  }
}

/** A chain's outcomes as a forward cursor over source lines, one page of places at a time. */
export class ChainCursor {
  private places: OutcomePlace[] = [];
  private next = 0;
  private after: { line: number; key: string } | undefined;
  private ended = false;
  private pageSize = FIRST_PAGE;

  constructor(
    private readonly ledger: Pick<Ledger, 'outcomePlaces'>,
    readonly chain: string,
  ) {}

  /** Nothing before `line` will be asked: pages are read from there (before anything was read). */
  skipTo(line: number): void {
    if (this.places.length === 0 && !this.ended) this.after = { line: line - 0.5, key: '' };
  }

  /** True when {@link placesAt} can answer for `line` without reading more. */
  covers(line: number): boolean {
    const last = this.places.at(-1);
    return this.ended || (last !== undefined && last.line > line);
  }

  /** Reads pages until `line` is covered; places before `line` are dropped. */
  async reach(line: number): Promise<void> {
    while (!this.covers(line)) {
      const kept = this.places.slice(this.firstAt(line));
      const page = await this.ledger.outcomePlaces(this.chain, this.after, this.pageSize);
      this.pageSize = Math.min(LARGEST_PAGE, this.pageSize * 2);
      if (page.length === 0) this.ended = true;
      else this.after = page.at(-1)!;
      this.places = kept.concat(page);
      this.next = 0;
    }
  }

  /** True when the chain has outcomes after `line` (after {@link reach}). */
  hasBeyond(line: number): boolean {
    return (this.places.at(-1)?.line ?? -Infinity) > line;
  }

  /** The places at exactly `line` (after {@link reach}); lines are asked in ascending order. */
  placesAt(line: number): OutcomePlace[] {
    this.next = this.firstAt(line);
    const found: OutcomePlace[] = [];
    for (let at = this.next; at < this.places.length && this.places[at]!.line === line; at += 1) {
      found.push(this.places[at]!);
    }
    return found;
  }

  private firstAt(line: number): number {
    let at = this.next;
    while (at < this.places.length && this.places[at]!.line < line) at += 1;
    return at;
  }
}

/**
 * {@link ChainRecords} of a big chain, merged with the source by line; see the file's comment. The
 * records are those whose latest outcome `chosen` accepts (by status, or by status and time).
 */
export class MergedChainRecords implements MergedRecords {
  private readonly cursor: ChainCursor;
  private readonly chosen: (place: Pick<OutcomePlace, 'status' | 'at'>) => boolean;
  /** Every status is chosen: the chain's finished records, what a resume skips. */
  private readonly everyStatus: boolean;
  /** Line of each key whose outcome is a rejection, when rejections are chosen: see the file's comment. */
  private rejectedAt: Map<string, number> | undefined;
  /** By key: the chosen records' keys, so a key that is none of them is known without asking the ledger. */
  private keys: KeyFilter | undefined;
  /** By key: the outcome of the last key looked up in the ledger because its line did not hold it. */
  private looked: { key: string; outcome: Pick<OutcomePlace, 'status' | 'at'> | undefined } | undefined;

  /**
   * `byKey`: the source's lines may move while its keys keep their meaning (a database query that
   * excludes the rows the backfill fixed): a record whose line does not hold its key is looked up by key
   * in the ledger (one lookup per such record), instead of refusing the resume.
   */
  constructor(
    private readonly ledger: Pick<Ledger, 'outcomePlaces' | 'outcomeOf' | 'outcomes'>,
    readonly chain: string,
    chosen: readonly RecordStatus[] | ((place: Pick<OutcomePlace, 'status' | 'at'>) => boolean),
    readonly size: number,
    private readonly byKey = false,
  ) {
    this.cursor = new ChainCursor(ledger, chain);
    this.chosen = typeof chosen === 'function' ? chosen : (place) => chosen.includes(place.status);
    this.everyStatus =
      typeof chosen !== 'function' && RECORD_STATUSES.every((status) => chosen.includes(status));
  }

  /** Reads the chain's rejections, when they are chosen, before the run writes anything. */
  async prepare(): Promise<void> {
    if (this.byKey && !this.keys) {
      this.keys = new KeyFilter(this.size);
      for await (const place of placesOf(this.ledger, this.chain)) {
        if (this.chosen(place)) this.keys.add(place.key);
      }
    }
    if (this.rejectedAt || !this.chosen({ status: 'rejected', at: '' })) return;
    this.rejectedAt = new Map();
    for await (const outcome of this.ledger.outcomes({ chain: this.chain, status: 'rejected' })) {
      this.rejectedAt.set(outcome.key, outcome.line);
    }
  }

  /** Undefined when {@link has} can answer at `line` now, else the read that makes it able to. */
  reach(line: number, key?: string): Promise<void> | undefined {
    const reading = this.cursor.covers(line) ? undefined : this.cursor.reach(line);
    if (!this.byKey || key === undefined) return reading;
    if (!reading && this.cursor.placesAt(line).some((place) => place.key === key)) return undefined;
    return (async () => {
      await reading;
      if (this.cursor.placesAt(line).some((place) => place.key === key)) return;
      // Most moved records were never done (done ones left the query): the filter says so without a lookup.
      const maybe = this.keys?.mayHave(key) ?? true;
      this.looked = { key, outcome: maybe ? await this.ledger.outcomeOf(this.chain, key) : undefined };
    })();
  }

  has(key: string, line: number, asRead = false): boolean {
    const places = this.cursor.placesAt(line);
    const place = places.find((candidate) => candidate.key === key);
    if (place) return !(asRead && place.status === 'rejected') && this.chosen(place);
    // A key as read may differ from the typed one: the full check decides.
    if (asRead) return false;
    if (this.byKey && this.looked?.key === key) {
      const outcome = this.looked.outcome;
      return outcome !== undefined && this.chosen(outcome);
    }
    if (places.length > 0) {
      throw new UserError(
        `line ${line} holds key ${key}, but run chain ${this.chain} recorded key ${places[0]!.key} there: ` +
          'the source changed under the chain; start over with --restart',
      );
    }
    // A valid row whose key a later malformed row carries: that row's rejection replaced its outcome.
    return (this.rejectedAt?.get(key) ?? -1) > line;
  }

  skipTo(line: number): void {
    this.cursor.skipTo(line);
  }

  async hasMalformed(key: string, line: number): Promise<boolean> {
    if (this.cursor.placesAt(line).length > 0 || !this.cursor.hasBeyond(line)) return this.has(key, line);
    // Reached, and its outcome replaced by a later row of its key: its status only says whether chosen.
    if (this.everyStatus) return true;
    const outcome = await this.ledger.outcomeOf(this.chain, key);
    return outcome !== undefined && outcome.line > line && this.chosen(outcome);
  }
}
