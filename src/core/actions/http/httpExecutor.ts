/**
 * Sends one rendered HTTP request and classifies what happened as an {@link AttemptResult}. This file
 * cannot depend on the vscode API.
 *
 * It uses undici's dispatcher rather than fetch or node:http: the request must be exactly the preview
 * (method, URL, headers, body, nothing added but framing), the deadline must cover the response body
 * too, and connections are pooled per executor with a known maximum. undici's callbacks cost about half
 * the CPU of a node:http request (bench/README.md, "The HTTP client"): at thousands of records a
 * second, the client is most of what a run does.
 *
 * Messages never contain request headers or the URL: either may carry a secret or a token.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { Dispatcher } from 'undici';
import Agent from 'undici/lib/dispatcher/agent';
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

/**
 * An executor whose connections are kept alive and reused between attempts, at most `maxSockets` per
 * host (use the run's concurrency): a backfill sends many requests to one host, and a new TCP and TLS
 * handshake per record would cost more than the request.
 */
export function createHttpExecutor(opts: { maxSockets: number; redactor?: Redactor }): HttpExecutor {
  const pool = new ConnectionPool(opts.maxSockets);
  const forExecution: ResponseReading = {
    keptBodyBytes: KEPT_BODY_BYTES + REDACTION_LOOKAHEAD_BYTES,
    classify: (head, body, durationMs) => classifyResponse(head, body, durationMs, opts.redactor),
  };
  return {
    execute: (preview, attempt) => sendOnce(preview, pool.agent, attempt, forExecution),
    check: (preview, attempt, judge) =>
      sendOnce(preview, pool.agent, attempt, {
        keptBodyBytes: MAX_CHECK_BODY_BYTES,
        classify: judging(judge),
      }),
    setMaxSockets: (maxSockets) => pool.resize(maxSockets),
    close: () => pool.destroy(),
  };
}

/**
 * The keep-alive connections of an executor. undici fixes an agent's cap when it is made, so a new cap
 * takes a new agent for the next requests; the old one closes once the requests it holds have ended.
 */
class ConnectionPool {
  agent: Agent;
  private readonly retired = new Set<Agent>();

  constructor(private maxSockets: number) {
    this.agent = newAgent(maxSockets);
  }

  resize(maxSockets: number): void {
    if (maxSockets === this.maxSockets) return;
    this.maxSockets = maxSockets;
    const old = this.agent;
    this.agent = newAgent(maxSockets);
    this.retired.add(old);
    void old.close().finally(() => this.retired.delete(old));
  }

  /** Closes every connection; requests still in flight are cut off. */
  async destroy(): Promise<void> {
    await Promise.all([this.agent, ...this.retired].map((agent) => agent.destroy()));
  }
}

function newAgent(maxSockets: number): Agent {
  // undici's own timeouts are off: the attempt's deadline (one timer, over the whole exchange) decides.
  return new Agent({ connections: maxSockets, headersTimeout: 0, bodyTimeout: 0 });
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

/** What a response said before its body: its status line and the one header a failure needs. */
interface ResponseHead {
  status: number;
  statusText: string;
  retryAfter: string | undefined;
}

/** How much of a response body to keep, and what the response means once it has been read. */
interface ResponseReading {
  keptBodyBytes: number;
  classify(head: ResponseHead, body: HeadBuffer, durationMs: number): AttemptResult;
}

/** A check's reading: overload and server errors are failures; any other response goes to the judge. */
function judging(judge: ResponseJudge): ResponseReading['classify'] {
  return (head, body, durationMs) => {
    const status = head.status;
    if (status === 429 || (status >= 500 && status < 600))
      return classifyResponse(head, body, durationMs, undefined);
    return judge({ status, body: body.text(), truncated: body.truncated }, durationMs);
  };
}

/**
 * Sends the preview and reads the whole response (keeping its start for the message) so the connection
 * can be reused, then classifies it. undici's dispatch callbacks, not a stream: nothing is made per
 * response but what the result needs. Never rejects.
 */
function sendOnce(
  preview: HttpPreview,
  agent: Agent,
  opts: AttemptOptions,
  reading: ResponseReading,
): Promise<AttemptResult> {
  const elapsed = startStopwatch();
  const target = parseTarget(preview.url);
  if (!target.ok) return Promise.resolve(failed(elapsed(), target.failure));
  if (opts.signal?.aborted) return Promise.resolve(failed(elapsed(), abortedFailure()));

  return new Promise((resolve) => {
    let head: ResponseHead | undefined;
    let abortRequest: ((reason: Error) => void) | undefined;
    let settled = false;
    const kept = new HeadBuffer(reading.keptBodyBytes);

    const finish = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (opts.signal) offStop(opts.signal, onAbort);
      resolve(result);
    };
    const fail = (failure: Failure): void => finish(failed(elapsed(), failure));
    // Aborting a request under way also closes its connection, so a stopped attempt never returns to
    // the pool; one still waiting for a connection is aborted as soon as it gets one (onConnect).
    const stop = (failure: Failure): void => {
      fail(failure);
      abortRequest?.(new Error('stopped'));
    };
    const onAbort = (): void => stop(abortedFailure());
    const timer = setTimeout(() => stop(timeoutFailure(opts.timeoutMs, head?.status)), opts.timeoutMs);
    if (opts.signal) onStop(opts.signal, onAbort);

    const handler: Dispatcher.DispatchHandlers = {
      onConnect: (abort) => {
        abortRequest = abort;
        if (settled) abort(new Error('stopped'));
      },
      onHeaders: (status, rawHeaders, _resume, statusText) => {
        head = { status, statusText, retryAfter: isSuccess(status) ? undefined : retryAfterOf(rawHeaders) };
        return true;
      },
      onData: (chunk) => {
        kept.write(chunk);
        return true;
      },
      onComplete: () => finish(reading.classify(head!, kept, elapsed())),
      onError: (error) => fail(head ? cutOffFailure(head.status) : requestFailure(error, preview.headers)),
    };
    agent.dispatch(
      {
        origin: target.url.origin,
        path: target.url.pathname + target.url.search,
        method: preview.method as Dispatcher.HttpMethod,
        headers: preview.headers,
        ...(preview.body === undefined ? {} : { body: preview.body }),
      },
      handler,
    );
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

const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/** The first Retry-After of raw headers (name, value, name, value…). */
function retryAfterOf(rawHeaders: Buffer[] | string[] | null): string | undefined {
  if (!rawHeaders) return undefined;
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    if (String(rawHeaders[index]).toLowerCase() === 'retry-after') return String(rawHeaders[index + 1]);
  }
  return undefined;
}

/** A body cut off half-way is a connection failure, whatever the status said. */
function cutOffFailure(status: number): Failure {
  return {
    kind: 'connection',
    retryable: true,
    httpStatus: status,
    message: `the connection closed before the end of the response (HTTP ${status})`,
  };
}

/**
 * 2xx succeeds. 429 and 503 mean the target is overloaded: retry after its Retry-After, and slow down.
 * Other 5xx are retryable server errors; other 4xx say the request itself is wrong, so retrying cannot
 * help. Redirects are not followed: the action must name the final URL.
 */
function classifyResponse(
  head: ResponseHead,
  body: HeadBuffer,
  durationMs: number,
  redactor: Redactor | undefined,
): AttemptResult {
  const status = head.status;
  if (isSuccess(status)) return succeeded(durationMs, status);

  const message = describeResponse(status, head.statusText, quotedBody(body, redactor));
  const retryAfterMs = parseRetryAfter(head.retryAfter);
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

/**
 * Why undici refused a request before sending it, naming the header when one is at fault: its own words
 * ("invalid header key") do not say which. Node's validators name the header, never its value.
 */
function whyRefused(detail: string, headers: Record<string, string>): string {
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch (error) {
      return errorMessage(error);
    }
  }
  return detail;
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
  // undici's names for a connection the other side closed, and for a connect that took too long.
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

/**
 * A request that got no response. Transient network errors are retryable. An unknown host is not: it is
 * almost always a typo in the URL, and retrying every record would only delay saying so. A request
 * refused before sending (a header value that cannot be sent), TLS and other errors are not retryable
 * either; they need a change in configuration.
 */
function requestFailure(error: unknown, headers: Record<string, string>): Failure {
  const code = errorCode(error);
  const detail = errorMessage(error);
  const transient = code === undefined ? undefined : TRANSIENT_NETWORK_ERRORS[code];
  if (transient !== undefined)
    return { kind: 'connection', retryable: true, message: `${transient}: ${detail}` };
  if (code === 'ENOTFOUND')
    return { kind: 'connection', retryable: false, message: `host not found: ${detail}` };
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
    return {
      kind: 'other',
      retryable: false,
      message: `the request was not sent: ${whyRefused(detail, headers)}`,
    };
  }
  return { kind: 'other', retryable: false, message: detail };
}
