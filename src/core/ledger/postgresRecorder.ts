/**
 * A run's recorder on the PostgreSQL ledger: the same group commit as the embedded journal, but each
 * group is one database transaction instead of an fsync'd append, and there is nothing to fold — what a
 * flush committed is in the ledger for every worker to read. Entries apply in the order they were
 * appended; consecutive outcomes go in one statement.
 *
 * This folder cannot depend on the vscode API.
 */
import type { RecordOutcome } from '../model/runs';
import { UserError } from '../model/types';
import type { NewJournalEntry } from './journalFile';
import { COMMITTED_WINDOW_PER_SLOT, type OutcomeRecorder } from './ledger';
import type { PostgresLedger } from './postgresLedger';
import { retryThroughOutage } from './postgresOutage';
import { SerialWrites } from './serialWrites';

export class PostgresRecorder implements OutcomeRecorder {
  private pending: NewJournalEntry[] = [];
  private nextSeq = 1;
  /** Every commit runs after the previous one: entries reach the database in the order appended. */
  private readonly writes = new SerialWrites();
  private closing: Promise<void> | undefined;
  readonly durabilityWindowPerSlot = COMMITTED_WINDOW_PER_SLOT;

  constructor(private readonly ledger: PostgresLedger) {}

  append(entry: NewJournalEntry): number {
    if (this.writes.failure) throw this.writes.failure;
    if (this.closing) throw new Error(`the recorder of ${this.ledger.location} is closed`);
    // A copy, so a caller changing the object afterwards cannot change what is recorded.
    this.pending.push(structuredClone(entry));
    return this.nextSeq++;
  }

  flush(): Promise<void> {
    return this.writes.coalesce(() => this.commitPending());
  }

  /** Committed entries are already in the ledger: a checkpoint is a flush. */
  checkpoint(): Promise<void> {
    return this.flush();
  }

  close(): Promise<void> {
    const last = this.writes.failure ? this.writes.settled() : this.writes.run(() => this.commitPending());
    this.closing ??= last.then(() => undefined);
    return this.closing;
  }

  /**
   * One transaction for everything appended so far. The database going away (a restart, a network cut)
   * does not stop the run: the same group is committed again on a new connection, with backoff, for as
   * long as the ledger's outage allowance — every entry is an upsert or an update, so a group whose
   * commit was applied but not acknowledged is applied again harmlessly. Meanwhile appends wait in
   * `pending` for the next group, and no flush resolves, which holds the dispatcher back (its durability
   * window fills). Any other failure, or an outage longer than the allowance, makes the recorder refuse
   * further use: the run must stop rather than count unwritten outcomes. Nothing of a rolled-back group
   * is in the ledger, so its records are sent again on resume.
   */
  private async commitPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const entries = this.pending;
    this.pending = [];
    try {
      await retryThroughOutage(() => this.ledger.transaction(() => applyInOrder(this.ledger, entries)), {
        reconnect: () => this.ledger.reconnect(),
        allowanceMs: this.ledger.outageAllowanceMs,
        onOutage: (error) => {
          this.ledger.unreachableSince = error === undefined ? undefined : Date.now();
        },
      });
    } catch (error) {
      const since = this.ledger.unreachableSince;
      const outage =
        since === undefined
          ? ''
          : ` after ${Math.round((Date.now() - since) / 1000)} s of retrying (${this.ledger.outageSetting} allows ${this.ledger.outageAllowanceMs / 1000} s)`;
      throw this.writes.stop(
        new UserError(
          `the ledger ${this.ledger.location} could not be written (${(error as Error).message})${outage}: the run must ` +
            'stop; records whose outcome was not written are sent again, with the same idempotency key, on resume',
        ),
      );
    }
  }
}

async function applyInOrder(ledger: PostgresLedger, entries: readonly NewJournalEntry[]): Promise<void> {
  let outcomes: RecordOutcome[] = [];
  const writeOutcomes = async () => {
    if (outcomes.length > 0) await ledger.recordOutcomes(outcomes);
    outcomes = [];
  };
  for (const entry of entries) {
    if (entry.type === 'outcome') {
      outcomes.push(entry.outcome);
      continue;
    }
    await writeOutcomes();
    if (entry.type === 'run-start') await ledger.startRun(entry.run);
    else await ledger.finishRun(entry.id, entry.outcome, entry.reason, entry.counts, entry.endedAt);
  }
  await writeOutcomes();
}
