/**
 * Attempts in flight that a run's stop signal must abort, listened to with one listener per signal
 * instead of one added and removed per attempt: Node's EventTarget makes each add and remove cost
 * microseconds, paid by every request of a run that is never stopped. This file cannot depend on the
 * vscode API.
 */

const stoppers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `stop` when `signal` aborts, unless {@link offStop} removed it first. The signal must not be
 * aborted already (callers check it before starting the attempt).
 */
export function onStop(signal: AbortSignal, stop: () => void): void {
  let pending = stoppers.get(signal);
  if (!pending) {
    const created = new Set<() => void>();
    pending = created;
    stoppers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        // A copy, since each stop removes itself; one removed meanwhile (its attempt ended) is skipped.
        for (const stopOne of [...created]) if (created.has(stopOne)) stopOne();
        created.clear();
      },
      { once: true },
    );
  }
  pending.add(stop);
}

/** The attempt ended: `stop` is no longer called when `signal` aborts. */
export function offStop(signal: AbortSignal, stop: () => void): void {
  stoppers.get(signal)?.delete(stop);
}
