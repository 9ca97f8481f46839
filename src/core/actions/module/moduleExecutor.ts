/**
 * Calls a module action's handler for one record. This file cannot depend on the vscode API.
 *
 * Retry convention: a handler that fails for a transient reason (a lock, a busy dependency) throws an
 * error with `retryable: true`, e.g. `throw Object.assign(new Error('busy'), { retryable: true })`.
 * Any other thrown error fails the record for good.
 */
import { handlerContext } from './handlerContext';
import type { ModuleContext, ModuleFunction } from './moduleLoader';
import { loadActionModule } from './moduleLoader';
import { UserError } from '../../model/types';
import type { AttemptResult } from '../../model/attemptResult';
import type { AttemptOptions, Failure } from '../attempt';
import { abortedFailure, errorMessage, failed, startStopwatch, succeeded } from '../attempt';
import { offStop, onStop } from '../stopSignal';

export type { HandlerContext } from './handlerContext';

/**
 * Turns what a module function returned into the attempt's result. A handler's return value does not
 * matter (it succeeded by not throwing); a `verify` function's return value is its verdict.
 */
export type ReturnInterpreter = (returned: unknown, durationMs: number) => AttemptResult;

/** Calls one loaded handler, attempt after attempt. */
export interface ModuleExecutor {
  /** The module's absolute path, for messages. */
  readonly absolutePath: string;
  /**
   * Calls the handler with a copy of the fields and the context (build it with `moduleContext(record,
   * renderCtx, false)`; the idempotency key comes with it). `interpret` reads what it returned; by
   * default returning at all is success. Never throws.
   */
  execute(
    fields: Record<string, unknown>,
    ctx: ModuleContext,
    opts: AttemptOptions,
    interpret?: ReturnInterpreter,
  ): Promise<AttemptResult>;
}

/**
 * Loads the module once (evaluating its top level) and returns an executor calling its handler. Throws
 * a {@link UserError} with a message for the user when the file is missing, does not compile, fails to
 * load or lacks the export: a run must refuse to start rather than fail every record the same way.
 */
export async function createModuleExecutor(
  spec: { path: string; export: string },
  baseDir: string,
): Promise<ModuleExecutor> {
  // A run is a process of its own: a plain .mjs/.cjs module is imported by Node, without esbuild.
  const loaded = await loadActionModule(spec, baseDir, 'native');
  if (!loaded.ok) throw new UserError(loaded.message);
  const { main, absolutePath } = loaded.module;
  return {
    absolutePath,
    execute: (fields, ctx, opts, interpret = returnedAtAll) =>
      callHandler(main, fields, ctx, opts, interpret),
  };
}

/** A handler's default reading: it returned at all, so it succeeded. */
const returnedAtAll: ReturnInterpreter = (_returned, durationMs) => succeeded(durationMs);

function callHandler(
  handler: ModuleFunction,
  fields: Record<string, unknown>,
  ctx: ModuleContext,
  opts: AttemptOptions,
  interpret: ReturnInterpreter,
): Promise<AttemptResult> {
  const elapsed = startStopwatch();
  if (opts.signal?.aborted) return Promise.resolve(failed(elapsed(), abortedFailure()));
  // ctx.signal's controller is made only if the handler reads it, and fired only when the handler
  // failed or must stop: a controller and an abort() (a DOMException) per record were a seventh of the
  // engine's own time with a no-op handler (bench/engineOverhead.mjs).
  let stopHandler: AbortController | undefined;
  let handlerStopped = false;
  const handlerSignal = (): AbortSignal => {
    stopHandler ??= new AbortController();
    if (handlerStopped) stopHandler.abort();
    return stopHandler.signal;
  };

  const context = handlerContext(ctx, handlerSignal);
  let pending: PromiseLike<unknown>;
  try {
    // A copy, so a handler that mutates its argument cannot change the record the engine goes on to use.
    const returned = handler(copyOf(fields), context);
    // A handler that returned without a promise is done: no deadline or stop can overtake a result that
    // is already there (its settlement always ran ahead of any timer). So no timer, no abort listener
    // and no promise chain for it: they were most of the engine's cost per record of a no-op handler.
    if (!isThenable(returned)) return Promise.resolve(interpret(returned, elapsed()));
    pending = returned;
  } catch (error) {
    // Thrown by the handler, or by a getter of what it returned: the handler failed.
    handlerStopped = true;
    stopHandler?.abort();
    return Promise.resolve(failed(elapsed(), handlerFailure(error)));
  }

  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: () => AttemptResult, stop: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (opts.signal) offStop(opts.signal, onAbort);
      if (stop) {
        handlerStopped = true;
        stopHandler?.abort();
      }
      resolve(result());
    };
    const finish = (failure: Failure): void => settle(() => failed(elapsed(), failure), true);
    const onAbort = (): void => finish(abortedFailure());
    // A promise cannot be cancelled: on timeout the handler's work is abandoned, not stopped, and may still
    // complete later. Its ctx.signal fires so it can stop itself; the idempotency key makes the retry safe.
    const timer = setTimeout(
      () =>
        finish({
          kind: 'timeout',
          retryable: true,
          message: `the handler did not finish within ${opts.timeoutMs} ms`,
        }),
      opts.timeoutMs,
    );
    if (opts.signal) onStop(opts.signal, onAbort);
    // Resolved through a promise of our own, so a thenable that is no real promise is handled alike.
    Promise.resolve(pending).then(
      (value) => settle(() => interpret(value, elapsed()), false),
      (error: unknown) => finish(handlerFailure(error)),
    );
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A copy of a record's fields: a shallow one when every value is a string, number, boolean or null (any
 * CSV record, most others), which is as safe as a deep one and a fraction of a structuredClone's cost.
 */
function copyOf(fields: Record<string, unknown>): Record<string, unknown> {
  for (const key in fields) {
    const value = fields[key];
    if (typeof value === 'object' && value !== null) return structuredClone(fields);
  }
  return { ...fields };
}

/** A thrown error is retryable only when the handler said so with `retryable: true`. */
function handlerFailure(error: unknown): Failure {
  const retryable = (error as { retryable?: unknown } | null)?.retryable === true;
  const message = errorMessage(error).trim() || 'the handler threw without a message';
  return { kind: 'handler-error', retryable, message };
}
