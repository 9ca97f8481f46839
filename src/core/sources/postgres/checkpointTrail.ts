/**
 * Where a database source's rows changed since its dry run, without keeping the rows: the dry run keeps a
 * trail of checkpoints (at every n-th keyset page, the running hash of all rows read up to it, at most
 * 128 of them, n doubling as the source grows, plus one at the end), and the check before a production
 * run compares its own running hash at the same pages. The first checkpoint that differs bounds the first
 * change: after the last checkpoint that matched, up to this one's key. This folder cannot depend on the
 * vscode API.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonicalJson';

/** One checkpoint: after `page` pages (the page ending at `lastKey`), the running hash of every row. */
export interface SourceCheckpoint {
  page: number;
  /** The page's last key as read (JSON). */
  lastKey: string;
  /** 16 hex digits of the running SHA-256. */
  hash: string;
  /** The checkpoint after the last page. */
  end?: true;
}

const MOST = 128;

/** Builds a read's trail of checkpoints and, given a dry run's, finds where this read first differs. */
export class CheckpointTrail {
  private readonly running = createHash('sha256');
  private pages = 0;
  private every = 1;
  private lastKey = 'null';
  private trail: SourceCheckpoint[] = [];
  private matched: SourceCheckpoint | undefined;
  private readonly expected: Map<number, SourceCheckpoint>;
  private readonly dryRunEnd: SourceCheckpoint | undefined;
  private readonly compare: boolean;
  /** Where this read first differs from the dry run's, in words; undefined while (or when) it does not. */
  firstChange: string | undefined;

  /**
   * `dryRun`: the dry run's trail to compare with (none to only build this read's); `onEnd` receives
   * this read's trail once the read reached its end.
   */
  constructor(
    dryRun: readonly SourceCheckpoint[] = [],
    private readonly onEnd: (trail: SourceCheckpoint[], trailOf: CheckpointTrail) => void = () => undefined,
  ) {
    this.expected = new Map(dryRun.filter((c) => !c.end).map((c) => [c.page, c]));
    this.dryRunEnd = dryRun.find((c) => c.end);
    this.compare = dryRun.length > 0;
  }

  /** Adds one page's rows (in key order) that ends at `lastKey` (JSON). */
  page(rows: readonly Record<string, unknown>[], lastKey: string): void {
    if (rows.length === 0) return;
    for (const fields of rows) this.running.update(`${canonicalJson(fields)}\n`);
    this.pages += 1;
    this.lastKey = lastKey;
    const then = this.compare && this.firstChange === undefined ? this.expected.get(this.pages) : undefined;
    const now = then || this.pages % this.every === 0 ? this.running.copy().digest('hex').slice(0, 16) : '';
    if (then) {
      if (then.hash === now) this.matched = then;
      else this.firstChange = `the rows with keys ${this.after()} up to ${then.lastKey}`;
    }
    if (this.pages % this.every !== 0) return;
    this.trail.push({ page: this.pages, lastKey, hash: now });
    if (this.trail.length > MOST) {
      this.every *= 2;
      this.trail = this.trail.filter((c) => c.page % this.every === 0);
    }
  }

  /** Adds the end checkpoint, settles {@link firstChange} against the dry run's end, calls `onEnd`. */
  end(): void {
    const end: SourceCheckpoint = {
      page: this.pages,
      lastKey: this.lastKey,
      hash: this.running.digest('hex').slice(0, 16),
      end: true,
    };
    if (this.compare && this.firstChange === undefined && this.dryRunEnd?.hash !== end.hash) {
      this.firstChange = `the rows with keys ${this.after()} to the last`;
    }
    this.onEnd([...this.trail, end], this);
  }

  private after(): string {
    return this.matched ? `after ${this.matched.lastKey}` : 'from the first';
  }
}
