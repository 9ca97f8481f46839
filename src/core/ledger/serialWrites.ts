/**
 * The write discipline of a run's recorders (the journal file, the PostgreSQL recorder): writes run one
 * after another, in the order asked; flushes asked while one is under way join the next (group commit);
 * and after a failed write nothing more runs, because what reached the store is unknown and a run must
 * stop rather than count outcomes that were never written.
 *
 * This folder cannot depend on the vscode API.
 */
export class SerialWrites {
  private tail: Promise<unknown> = Promise.resolve();
  /** The group write that has not started yet; flushes asked meanwhile join it. */
  private queued: Promise<void> | undefined;
  private failed: Error | undefined;

  /** The failure that stopped the writes, if one did. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** Resolves once every write asked so far has settled. */
  settled(): Promise<unknown> {
    return this.tail;
  }

  /** Runs `operation` after every earlier one; rejects with the failure once a write has failed. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.failed) throw this.failed;
      return operation();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Runs `write` once for every call made before it starts: a thousand flushes cost one write. */
  coalesce(write: () => Promise<void>): Promise<void> {
    this.queued ??= this.run(() => {
      this.queued = undefined;
      return write();
    });
    return this.queued;
  }

  /** Records that a write failed: every later `run` rejects with `error`. Returns it, to be thrown. */
  stop(error: Error): Error {
    this.failed = error;
    return error;
  }
}
