/**
 * A sleep that a stop cuts short: it resolves (never rejects) after `ms`, or at once when `signal` aborts,
 * leaving no timer or listener behind. This file cannot depend on the vscode API.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
