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
 * recorded at the line it was read from. The one exception is a key on several lines (a duplicate, or a
 * malformed record repeating a key), whose one outcome sits at only one of them: the feed hands over the
 * source's repeated keys (sources/repeatedKeys.ts, few) and those are looked up by key, once, up front;
 * the lines of such a key up to its outcome's were decided, the later ones not yet.
 * An outcome found at a line whose record has another key (not a repeated one) means the lines moved
 * under the chain; the run stops and says so rather than guess.
 *
 * Pages are read whole and never held open across a write (the Ledger contract), so the run records
 * outcomes while its feed reads ahead. This file cannot depend on the vscode API.
 */
import type { Ledger, OutcomePlace } from '../ledger/ledger';
import type { RecordStatus } from '../model/runs';
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
  ledger: Pick<Ledger, 'keysWithStatus' | 'outcomePlaces' | 'outcomeOf'>,
  chain: string,
  statuses: readonly RecordStatus[],
  count: number,
  keysInMemory = DEFAULT_KEYS_IN_MEMORY,
): Promise<ChainRecords> {
  if (count <= keysInMemory) return await ledger.keysWithStatus(chain, statuses);
  return new MergedChainRecords(ledger, chain, statuses, count);
}

/** True for records a merge with the ledger decides: the feed must prepare them before use. */
export function isMerged(records: ChainRecords): records is MergedChainRecords {
  return records instanceof MergedChainRecords;
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

/** {@link ChainRecords} of a big chain, merged with the source by line; see the file's comment. */
export class MergedChainRecords implements ChainRecords {
  private readonly cursor: ChainCursor;
  private repeated: { has(key: string): boolean } | undefined;
  /** Where the outcome of each of the source's repeated keys sits, when it has one of the statuses. */
  private readonly repeatedChosen = new Map<string, number>();

  constructor(
    private readonly ledger: Pick<Ledger, 'outcomePlaces' | 'outcomeOf'>,
    readonly chain: string,
    readonly statuses: readonly RecordStatus[],
    readonly size: number,
  ) {
    this.cursor = new ChainCursor(ledger, chain);
  }

  /** Looks up the source's repeated keys by key, once, before the first record. */
  async useRepeatedKeys(repeated: { has(key: string): boolean; keys(): Iterable<string> }): Promise<void> {
    this.repeated = repeated;
    for (const key of repeated.keys()) {
      const outcome = await this.ledger.outcomeOf(this.chain, key);
      if (outcome && this.statuses.includes(outcome.status)) this.repeatedChosen.set(key, outcome.line);
    }
  }

  /** Undefined when {@link has} can answer at `line` now, else the read that makes it able to. */
  reach(line: number): Promise<void> | undefined {
    return this.cursor.covers(line) ? undefined : this.cursor.reach(line);
  }

  has(key: string, line: number, asRead = false): boolean {
    if (this.repeated === undefined) throw new Error('the source’s repeated keys are not known yet');
    // A repeated key's one outcome sits at the last of its lines the chain reached: the lines up to it
    // were decided, a later one (a valid row after a malformed one with its key) was not reached yet.
    // A repeated key's record may be malformed on this line: only the full check may skip it.
    if (this.repeated.has(key)) return !asRead && (this.repeatedChosen.get(key) ?? -1) >= line;
    const places = this.cursor.placesAt(line);
    if (places.length === 0) return false;
    const place = places.find((candidate) => candidate.key === key);
    if (place) return this.statuses.includes(place.status);
    if (!asRead && places.every((other) => !this.repeated!.has(other.key))) {
      throw new UserError(
        `line ${line} holds key ${key}, but run chain ${this.chain} recorded key ${places[0]!.key} there: ` +
          'the source changed under the chain; start over with --restart',
      );
    }
    return false;
  }
}
