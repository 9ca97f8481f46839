/**
 * A segment's tallies — its outcomes counted by status, error kind and run, with the time of the run's
 * latest one — as a fold changes them: counted in JS for a whole batch of outcomes and applied in a few
 * statements, instead of a trigger per row. The triggers (outcomeSegment.ts) cost SQLite nearly as
 * much as the row they counted; they stay in the file a segment is saved to, so every version reads and
 * writes the same tallies, and are dropped only from the open connection.
 *
 * This folder cannot depend on the vscode API.
 */
import type { SqlValue } from 'sql.js';

/** One tally row: status, error kind ('' for none), run id; and what a batch adds to it or takes away. */
export interface TallyGroup {
  readonly status: string;
  readonly errorKind: string;
  readonly run: number;
  added: number;
  removed: number;
  /** The latest time of the outcomes added ('' before any). */
  lastAt: string;
}

/** What the trigger `count_outcome` did for each row, for `added` rows at once. */
const COUNT_ADDED = `INSERT INTO tallies VALUES (?, ?, ?, ?, ?)
  ON CONFLICT DO UPDATE SET count = count + excluded.count, last_at = max(last_at, excluded.last_at)`;

/** What the trigger `uncount_outcome` did for each replaced row, for `removed` rows at once. */
const COUNT_REMOVED = 'UPDATE tallies SET count = count - ? WHERE status = ? AND error_kind = ? AND run = ?';

/** The changes one batch of outcomes makes to a segment's tallies. */
export class TallyChanges {
  private readonly groups = new Map<string, TallyGroup>();
  /** The group of the previous call: nearly every outcome of a batch is in the same one. */
  private last: TallyGroup | undefined;

  /** The group of outcomes with this status, error kind ('' for none) and run id. */
  group(status: string, errorKind: string, run: number): TallyGroup {
    const last = this.last;
    if (last && last.run === run && last.status === status && last.errorKind === errorKind) return last;
    const id = `${status}\u0000${errorKind}\u0000${run}`;
    let group = this.groups.get(id);
    if (!group) {
      group = { status, errorKind, run, added: 0, removed: 0, lastAt: '' };
      this.groups.set(id, group);
    }
    this.last = group;
    return group;
  }

  /** An outcome of `group` recorded at `at` was written. */
  add(group: TallyGroup, at: string): void {
    group.added += 1;
    if (at > group.lastAt) group.lastAt = at;
  }

  /** An outcome of `group` was replaced. */
  remove(group: TallyGroup): void {
    group.removed += 1;
  }

  /** The statements, with their parameters, that apply the changes (in the same transaction as the rows). */
  *statements(): Generator<[sql: string, parameters: SqlValue[]]> {
    for (const group of this.groups.values()) {
      const { status, errorKind, run } = group;
      if (group.added > 0) yield [COUNT_ADDED, [status, errorKind, run, group.added, group.lastAt]];
      if (group.removed > 0) yield [COUNT_REMOVED, [group.removed, status, errorKind, run]];
    }
  }
}
