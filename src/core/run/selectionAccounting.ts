/**
 * The run's books: every item read from the source must end in exactly one place — outside the run's
 * selection (a duplicate key, not in the subset, not in the re-run list, a rejection already recorded),
 * skipped (an earlier run of the chain finished it), or an outcome of this run (rejected included). A run
 * that ends with items in none of them, or that stopped reading the source before its end without being
 * stopped, lost records: it must halt, resumable, instead of finishing as succeeded. `throttle.rate:
 * 1e308` once did exactly that — a refused rate permit ended the dispatch loop as if the source were
 * finished, and the run said "succeeded" with records never sent.
 *
 * This file cannot depend on the vscode API.
 */

/** What the run recorded, to be balanced against what it read. */
export interface RecordedCounts {
  /** Outcomes this run recorded, every status (rejected included). */
  outcomes: number;
  /** Records skipped because an earlier run of the chain finished them. */
  skipped: number;
}

/** Counts what the dispatch loop read and set aside; {@link SelectionAccounting.problem} balances it. */
export class SelectionAccounting {
  private read = 0;
  private outside = 0;
  private readToEnd = false;

  /**
   * The source's items, counted as they are read; reaching the end is noted. A plain iterator rather
   * than an async generator: one more generator per item costs measurably at 100,000 records a second.
   */
  reading<T>(source: AsyncIterable<T>): AsyncIterable<T> {
    const iterator = source[Symbol.asyncIterator]();
    const counted: AsyncIterator<T> = {
      next: () =>
        iterator.next().then((result) => {
          if (result.done) this.ended();
          else this.counted();
          return result;
        }),
      return: (value?: unknown) =>
        iterator.return ? iterator.return(value) : Promise.resolve({ done: true, value: undefined }),
    };
    return { [Symbol.asyncIterator]: () => counted };
  }

  /**
   * An item was read: what a loop over the source calls for each item when it counts them itself (the
   * feed: a wrapper's promise per item cost more than the counting).
   */
  counted(): void {
    this.read += 1;
  }

  /** The source was read to its end. */
  ended(): void {
    this.readToEnd = true;
  }

  /** A resume's seek read past `count` items, every one owed a skip (run/feedSeek.ts). */
  passed(count: number): void {
    this.read += count;
  }

  /** The item just read is not part of this run's selection: it is owed no outcome. */
  onOutside(): void {
    this.outside += 1;
  }

  /** Items read and owed an outcome or a skip. */
  get selected(): number {
    return this.read - this.outside;
  }

  /**
   * Why the books do not balance, as a halt reason that says how many records are unaccounted for and
   * what to do; undefined when they do. Only meaningful for a run that was not stopped: a stop leaves
   * in-flight records without an outcome (a resume sends them again) and the source unread.
   */
  problem(recorded: RecordedCounts): string | undefined {
    const accounted = recorded.outcomes + recorded.skipped;
    const missing = this.selected - accounted;
    if (missing === 0 && this.readToEnd) return undefined;
    const parts: string[] = [];
    if (missing !== 0) {
      parts.push(
        missing > 0
          ? `${missing} of the ${this.selected} records selected so far have no outcome`
          : `${-missing} more outcomes than records selected (${this.selected})`,
      );
    }
    if (!this.readToEnd) {
      parts.push(`the source was not read to its end (reading stopped after ${this.read} items)`);
    }
    return (
      `unaccounted records: ${parts.join('; ')} — this is a bug, please report it. The run halted ` +
      'instead of finishing: run the same command to resume, which sends every record without an outcome'
    );
  }
}

/**
 * Why a run that ended with no record at all — none sent, rejected or finished earlier — is no success
 * of the backfill: a header-only file or a subset that matches nothing is almost always a mistake.
 * Undefined when the chain has records.
 */
export function emptySelectionReason(chainRecords: number, skipped: number): string | undefined {
  if (chainRecords > 0 || skipped > 0) return undefined;
  return (
    'the selection is empty: the source has no records, or the subset selects none, so nothing was ' +
    'sent; this is not a success of the backfill'
  );
}
