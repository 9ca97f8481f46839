/**
 * What one run's check of a database source read, page by page, so the pass that sends records can
 * tell whether it reads the same rows. This file cannot depend on the vscode API.
 *
 * Why it exists: before a run sends anything it reads the whole source in one consistent snapshot and
 * compares the hash with the passing dry run's (the production gate). The pass that sends records cannot
 * hold that snapshot for hours (it would hold back vacuum), so it reads page by page; the pin is how it
 * still refuses to send a row that changed after the check instead of sending it silently.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonicalJson';
import type { SourceCheckpoint } from './postgres/checkpointTrail';

/** One keyset page as the check read it: its last key and a hash of its rows. */
export interface PinnedPage {
  /** The page's last key as read (JSON), the end of the key range the page covers. */
  lastKey: string;
  rows: number;
  /** The first 16 hex digits of the SHA-256 of the page's rows as read (canonical JSON, one per line). */
  hash: string;
}

/**
 * Filled by the check before a run (one per run), compared by the run's sending pass. It holds one small
 * entry per page (its last key and 16 hex digits of hash): 10 million rows in pages of 1,000 take ~0.5 MB.
 */
export class SourcePin {
  /** The pages the check read, in key order; undefined until a check recorded them. */
  pages: PinnedPage[] | undefined;
  /** When the check read them (ISO time), for the message that says the data changed since. */
  checkedAt: string | undefined;
  /** The passing dry run's checkpoints (see checkpointTrail.ts), set before the check reads. */
  dryRunCheckpoints: SourceCheckpoint[] | undefined;
  /** Where the check first read other rows than that dry run did, in words; set by the check. */
  changedSinceDryRun: string | undefined;
}

/**
 * The hash of rows as read: the SHA-256 of their canonical JSON, one per line, cut to `hexDigits`. A keyset
 * page's pin and a key-range chunk's (fleet/chunkRanges.ts) are both this, so a run and its workers agree.
 */
export class RowsHash {
  private readonly hash = createHash('sha256');
  rows = 0;

  add(fields: Record<string, unknown>): void {
    this.hash.update(`${canonicalJson(fields)}\n`);
    this.rows += 1;
  }

  digest(hexDigits = 16): string {
    return this.hash.digest('hex').slice(0, hexDigits);
  }
}
