/**
 * Building blocks shared by the executors: timing an attempt, shaping its {@link AttemptResult}, and
 * keeping only a bounded slice of what a target printed or answered. This file cannot depend on the
 * vscode API.
 */
import type { AttemptResult, ErrorKind } from '../model/attemptResult';

/** What every attempt is given: its deadline and the run's stop signal. */
export interface AttemptOptions {
  /** The whole attempt (connect, send, response and its body; or the process's whole life). */
  timeoutMs: number;
  /** Aborting stops the attempt at once; the result is a non-retryable `aborted`. */
  signal?: AbortSignal;
}

/** A failed attempt's fields, before its duration is known. */
export interface Failure {
  kind: ErrorKind;
  retryable: boolean;
  message: string;
  overload?: boolean;
  retryAfterMs?: number;
  httpStatus?: number;
}

/** The message of every attempt stopped by the run's abort signal. */
export const ABORTED_MESSAGE = 'aborted';

/**
 * Longest message an attempt result carries: results are shown in one line and stored per record, yet
 * the end of a program's stderr (about 500 bytes) must fit.
 */
export const MAX_MESSAGE_LENGTH = 600;

/** Returns a function giving the milliseconds since it was created (monotonic, whole numbers). */
export function startStopwatch(): () => number {
  const startedAt = performance.now();
  return () => Math.round(performance.now() - startedAt);
}

/** A successful attempt. */
export function succeeded(durationMs: number, httpStatus?: number): AttemptResult {
  return httpStatus === undefined ? { ok: true, durationMs } : { ok: true, durationMs, httpStatus };
}

/** A failed attempt; the message is reduced to one bounded line. */
export function failed(durationMs: number, failure: Failure): AttemptResult {
  const result: AttemptResult = {
    ok: false,
    durationMs,
    kind: failure.kind,
    retryable: failure.retryable,
    overload: failure.overload ?? false,
    message: oneLine(failure.message),
  };
  if (failure.retryAfterMs !== undefined) result.retryAfterMs = failure.retryAfterMs;
  if (failure.httpStatus !== undefined) result.httpStatus = failure.httpStatus;
  return result;
}

/** The failure of an attempt stopped on purpose: retrying it would defeat the stop. */
export function abortedFailure(): Failure {
  return { kind: 'other', retryable: false, message: ABORTED_MESSAGE };
}

/**
 * Collapses any run of whitespace or control characters to one space and cuts the text to `max`
 * characters, so a multi-line stack trace or an HTML error page stays one readable line.
 */
export function oneLine(text: string, max = MAX_MESSAGE_LENGTH): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * The first `max` characters of a text a message quotes, marked "…" when cut: the mark tells redaction
 * that a piece of a secret may end the text (see Redactor.redact).
 */
export function quoted(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Like {@link oneLine} but keeps the end of the text: the last lines a program printed are the ones
 * that say why it failed.
 */
export function oneLineTail(text: string, max: number): string {
  const flat = oneLine(text, Number.MAX_SAFE_INTEGER);
  return flat.length <= max ? flat : `…${flat.slice(flat.length - max + 1)}`;
}

/** The message of anything thrown, whether or not it is an Error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The `code` of a Node system error (`ECONNREFUSED`, `ENOENT`, ...), if there is one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Keeps the first `limit` bytes written to it and drops the rest: enough of a body for a message. */
export class HeadBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  write(chunk: Buffer): void {
    const slice = chunk.subarray(0, Math.max(0, this.limit - this.kept));
    if (slice.length < chunk.length) this.dropped = true;
    if (slice.length === 0) return;
    this.chunks.push(slice);
    this.kept += slice.length;
  }

  /** True when bytes beyond the limit were dropped: the text is only the start of what was written. */
  get truncated(): boolean {
    return this.dropped;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Keeps the last `limit` bytes written to it: the end of stderr is where a program says why it failed.
 * Its text starts with "…" when earlier bytes were dropped.
 */
export class TailBuffer {
  private buffer = Buffer.alloc(0);
  private dropped = false;

  constructor(private readonly limit: number) {}

  write(chunk: Buffer): void {
    const joined = Buffer.concat([this.buffer, chunk]);
    if (joined.length <= this.limit) {
      this.buffer = joined;
      return;
    }
    this.buffer = joined.subarray(joined.length - this.limit);
    this.dropped = true;
  }

  text(): string {
    // Cutting may split a multi-byte character at the start; the replacement character it becomes is harmless.
    const text = this.buffer.toString('utf8');
    return this.dropped ? `…${text}` : text;
  }
}
