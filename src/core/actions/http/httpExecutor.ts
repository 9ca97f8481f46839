/**
 * Sends one rendered HTTP request and classifies what happened as an {@link AttemptResult}. This file
 * cannot depend on the vscode API.
 *
 * It uses node:http and node:https directly rather than fetch: the request must be exactly the preview
 * (method, URL, headers, body, nothing added but framing), the deadline must cover the response body
 * too, and connections are pooled per executor with a known maximum.
 *
 * Messages never contain request headers or the URL: either may carry a secret or a token.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { HttpPreview } from '../compiledAction';
import type { Redactor } from '../../secrets/secrets';
import type { AttemptResult } from '../../model/attemptResult';
import type { AttemptOptions, Failure } from '../attempt';
import {
  HeadBuffer,
  abortedFailure,
  errorCode,
  errorMessage,
  failed,
  quoted,
  startStopwatch,
  succeeded,
} from '../attempt';
import { parseRetryAfter } from './retryAfter';
import { offStop, onStop } from '../stopSignal';

/** How much of an error response's body the message quotes. */
const KEPT_BODY_BYTES = 300;

/**
 * Bytes read past the quoted part, so that a secret the body echoes across the cut is redacted whole
 * before the cut (the rest of the body is read and dropped).
 */
const REDACTION_LOOKAHEAD_BYTES = 1024;

/**
 * How much of a response a check reads: a record's state is small, and a body beyond this is not one
 * (a listing, an error page); it is cut, and the check is told so.
 */
export const MAX_CHECK_BODY_BYTES = 1024 * 1024;

/** A complete response, as a check sees it. */
export interface CheckResponse {
  status: number;
  /** The body as text: all of it, or its first {@link MAX_CHECK_BODY_BYTES} when `truncated`. */
  body: string;
  truncated: boolean;
}

/** Decides what a response to a check means: a verdict, or a failure saying why it is no answer. */
export type ResponseJudge = (response: CheckResponse, durationMs: number) => AttemptResult;

/** Sends HTTP attempts over its own pool of keep-alive connections. */
export interface HttpExecutor {
  /** Sends the preview once. Never throws: every problem is a failed {@link AttemptResult}. */
  execute(preview: HttpPreview, opts: AttemptOptions): Promise<AttemptResult>;
  /**
   * Sends the preview once and lets `judge` decide what the response means. A 429 or a 5xx stays a
   * retryable failure, as for `execute`: an overloaded or failing target has not answered the question.
   * Never throws.
   */
  check(preview: HttpPreview, opts: AttemptOptions, judge: ResponseJudge): Promise<AttemptResult>;
  /** Changes the cap on connections per host, e.g. when the operator changes the run's concurrency. */
  setMaxSockets(maxSockets: number): void;
  /** Closes the pooled connections; attempts still in flight are cut off. */
  close(): Promise<void>;
}

/** The agents a request may go through, one per protocol. */
interface Agents {
  http: http.Agent;
  https: https.Agent;
}

/**
 * An executor whose connections are kept alive and reused between attempts, at most `maxSockets` per
 * host (use the run's concurrency): a backfill sends many requests to one host, and a new TCP and TLS
 * handshake per record would cost more than the request.
 */
export function createHttpExecutor(opts: { maxSockets: number; redactor?: Redactor }): HttpExecutor {
  const agents: Agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets }),
    https: new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets }),
  };
  const forExecution: ResponseReading = {
    keptBodyBytes: KEPT_BODY_BYTES + REDACTION_LOOKAHEAD_BYTES,
    classify: (response, body, durationMs) => classifyResponse(response, body, durationMs, opts.redactor),
  };
  return {
    execute: (preview, attempt) => sendOnce(preview, agents, attempt, forExecution),
    check: (preview, attempt, judge) =>
      sendOnce(preview, agents, attempt, { keptBodyBytes: MAX_CHECK_BODY_BYTES, classify: judging(judge) }),
    setMaxSockets: (maxSockets) => {
      // Agents read the cap whenever a request needs a socket, so the change applies to the next request.
      agents.http.maxSockets = maxSockets;
      agents.https.maxSockets = maxSockets;
    },
    close: () => {
      agents.http.destroy();
      agents.https.destroy();
      return Promise.resolve();
    },
  };
}

/**
 * Sends the preview once on a connection of its own, closed afterwards. For a single request; a run uses
 * {@link createHttpExecutor} so connections are reused.
 */
export async function executeHttp(preview: HttpPreview, opts: AttemptOptions): Promise<AttemptResult> {
  const executor = createHttpExecutor({ maxSockets: 1 });
  try {
    return await executor.execute(preview, opts);
  } finally {
    await executor.close();
  }
}

/** How much of a response body to keep, and what the response means once it has been read. */
interface ResponseReading {
  keptBodyBytes: number;
  classify(response: IncomingMessage, body: HeadBuffer, durationMs: number): AttemptResult;
}

/** A check's reading: overload and server errors are failures; any other response goes to the judge. */
function judging(judge: ResponseJudge): ResponseReading['classify'] {
  return (response, body, durationMs) => {
    const status = response.statusCode ?? 0;
    if (status === 429 || (status >= 500 && status < 600))
      return classifyResponse(response, body, durationMs, undefined);
    return judge({ status, body: body.text(), truncated: body.truncated }, durationMs);
  };
}

function sendOnce(
  preview: HttpPreview,
  agents: Agents,
  opts: AttemptOptions,
  reading: ResponseReading,
): Promise<AttemptResult> {
  const elapsed = startStopwatch();
  const target = parseTarget(preview.url);
  if (!target.ok) return Promise.resolve(failed(elapsed(), target.failure));
  if (opts.signal?.aborted) return Promise.resolve(failed(elapsed(), abortedFailure()));

  return new Promise((resolve) => {
    let request: http.ClientRequest | undefined;
    let status: number | undefined;
    let settled = false;

    const finish = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (opts.signal) offStop(opts.signal, onAbort);
      resolve(result);
    };
    const fail = (failure: Failure): void => finish(failed(elapsed(), failure));
    // Destroying the request also closes its socket, so a stopped attempt never returns to the pool.
    const stop = (failure: Failure): void => {
      fail(failure);
      request?.destroy();
    };
    const onAbort = (): void => stop(abortedFailure());
    const timer = setTimeout(() => stop(timeoutFailure(opts.timeoutMs, status)), opts.timeoutMs);
    if (opts.signal) onStop(opts.signal, onAbort);

    try {
      request = buildRequest(preview, target.url, agents);
    } catch (error) {
      // Node refuses an invalid header name or value before anything is sent; its message names the header only.
      fail({ kind: 'other', retryable: false, message: `the request was not sent: ${errorMessage(error)}` });
      return;
    }
    request.on('error', (error) => fail(connectionFailure(error, status)));
    request.on('response', (response) => {
      status = response.statusCode;
      readResponse(response, reading.keptBodyBytes, {
        onEnd: (body) => finish(reading.classify(response, body, elapsed())),
        onCutOff: fail,
      });
    });
    request.end(preview.body);
  });
}

type Target = { ok: true; url: URL } | { ok: false; failure: Failure };

function parseTarget(text: string): Target {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, failure: { kind: 'other', retryable: false, message: 'the URL is not valid' } };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const message = `the URL scheme ${url.protocol} is not supported: use http: or https:`;
    return { ok: false, failure: { kind: 'other', retryable: false, message } };
  }
  return { ok: true, url };
}

function buildRequest(preview: HttpPreview, url: URL, agents: Agents): http.ClientRequest {
  const headers: Record<string, string> = { ...preview.headers };
  if (preview.body !== undefined && !hasHeader(headers, 'content-length')) {
    // Explicit, so the body is never sent chunked: some targets refuse chunked uploads.
    headers['Content-Length'] = String(Buffer.byteLength(preview.body));
  }
  const options = { method: preview.method, headers };
  return url.protocol === 'https:'
    ? https.request(url, { ...options, agent: agents.https })
    : http.request(url, { ...options, agent: agents.http });
}

function hasHeader(headers: Record<string, string>, lowerCaseName: string): boolean {
  return Object.keys(headers).some((name) => name.toLowerCase() === lowerCaseName);
}

/**
 * Reads the whole body (keeping its start for the message) so the connection can be reused, then
 * classifies the response. A body cut off half-way is a connection failure, whatever the status said.
 */
function readResponse(
  response: IncomingMessage,
  keptBodyBytes: number,
  on: { onEnd: (keptBody: HeadBuffer) => void; onCutOff: (failure: Failure) => void },
): void {
  const status = response.statusCode ?? 0;
  const kept = new HeadBuffer(keptBodyBytes);
  const cutOff = (): void =>
    on.onCutOff({
      kind: 'connection',
      retryable: true,
      httpStatus: status,
      message: `the connection closed before the end of the response (HTTP ${status})`,
    });
  response.on('data', (chunk: Buffer) => kept.write(chunk));
  response.on('end', () => on.onEnd(kept));
  response.on('error', cutOff);
  response.on('close', () => {
    if (!response.complete) cutOff();
  });
}

/**
 * 2xx succeeds. 429 and 503 mean the target is overloaded: retry after its Retry-After, and slow down.
 * Other 5xx are retryable server errors; other 4xx say the request itself is wrong, so retrying cannot
 * help. Redirects are not followed: the action must name the final URL.
 */
function classifyResponse(
  response: IncomingMessage,
  body: HeadBuffer,
  durationMs: number,
  redactor: Redactor | undefined,
): AttemptResult {
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return succeeded(durationMs, status);

  const message = describeResponse(status, response.statusMessage, quotedBody(body, redactor));
  const retryAfterMs = parseRetryAfter(singleHeader(response.headers, 'retry-after'));
  const retryHint = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429) {
    return failed(durationMs, {
      kind: 'http-429',
      retryable: true,
      overload: true,
      httpStatus: status,
      message,
      ...retryHint,
    });
  }
  if (status >= 500 && status < 600) {
    const overload = status === 503;
    return failed(durationMs, {
      kind: 'http-5xx',
      retryable: true,
      overload,
      httpStatus: status,
      message,
      ...retryHint,
    });
  }
  if (status >= 400 && status < 500) {
    return failed(durationMs, { kind: 'http-4xx', retryable: false, httpStatus: status, message });
  }
  const unexpected =
    status >= 300 && status < 400 ? `${message} (redirects are not followed: use the final URL)` : message;
  return failed(durationMs, { kind: 'other', retryable: false, httpStatus: status, message: unexpected });
}

/**
 * The start of an error body for the message, marked "…" when cut: secrets redacted before the cut when
 * the run's redactor is known, and the runner's redaction takes any piece of one at a marked cut.
 */
function quotedBody(body: HeadBuffer, redactor: Redactor | undefined): string {
  const text = body.text();
  if (redactor) return redactor.redactAndCut(text, KEPT_BODY_BYTES);
  return body.truncated && text.length <= KEPT_BODY_BYTES ? `${text}…` : quoted(text, KEPT_BODY_BYTES);
}

function describeResponse(status: number, reason: string | undefined, body: string): string {
  const statusLine = `HTTP ${status}${reason ? ` ${reason}` : ''}`;
  return body.trim() === '' ? statusLine : `${statusLine}: ${body}`;
}

function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function timeoutFailure(timeoutMs: number, status: number | undefined): Failure {
  const waitingFor = status === undefined ? 'a response' : `the end of the response (HTTP ${status})`;
  const failure: Failure = {
    kind: 'timeout',
    retryable: true,
    message: `timed out after ${timeoutMs} ms waiting for ${waitingFor}`,
  };
  if (status !== undefined) failure.httpStatus = status;
  return failure;
}

/** Network errors that a later attempt may well not meet: the target restarting, a dropped connection. */
const TRANSIENT_NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ECONNABORTED: 'connection aborted',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  EAI_AGAIN: 'temporary DNS failure',
};

/**
 * A request that got no complete response. Transient network errors are retryable. An unknown host is
 * not: it is almost always a typo in the URL, and retrying every record would only delay saying so.
 * TLS and other errors are not retryable either; they need a change in configuration.
 */
function connectionFailure(error: unknown, status: number | undefined): Failure {
  const code = errorCode(error);
  const detail = errorMessage(error);
  const withStatus = status === undefined ? {} : { httpStatus: status };
  const transient = code === undefined ? undefined : TRANSIENT_NETWORK_ERRORS[code];
  if (transient !== undefined) {
    return { kind: 'connection', retryable: true, message: `${transient}: ${detail}`, ...withStatus };
  }
  if (code === 'ENOTFOUND') {
    return { kind: 'connection', retryable: false, message: `host not found: ${detail}`, ...withStatus };
  }
  return { kind: 'other', retryable: false, message: detail, ...withStatus };
}
