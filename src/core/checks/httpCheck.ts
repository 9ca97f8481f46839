/**
 * Checks a record's end state with an HTTP request: the request is templated exactly like an HTTP
 * action's (the same escaping, so a record value is one URL segment and never a header line), and the
 * response is judged against the expected status and JSON body fields. This folder cannot depend on the
 * vscode API.
 */
import { rangedNumber } from '../model/rangedNumber';
import { compileHttpAction } from '../actions/http/httpAction';
import { mergeReferences } from '../actions/template';
import type { AttemptOptions } from '../actions/attempt';
import { failed, quoted } from '../actions/attempt';
import { createHttpExecutor, type CheckResponse } from '../actions/http/httpExecutor';
import type { AttemptResult } from '../model/attemptResult';
import type { CompiledCheck, OpenCheck } from './compiledCheck';
import { checked, invalidCheck } from './compiledCheck';
import { withEnv } from '../actions/targetText';
import { compareFields, type CompiledExpectations, type ExpectedFields } from './expectations';
import { compileExpectations } from './expectations';
import { z } from 'zod';
import type { CheckKind } from './checkKind';
import { expectedFieldsSchema, toleranceSchema } from './expectations';

/** Reads the record's state with an HTTP request (templated like an HTTP action) and judges the answer. */
const HttpCheckSchema = z.strictObject({
  type: z.literal('http'),
  method: z.enum(['GET', 'POST']).default('GET'),
  /** Templated like an action's URL: a record value is exactly one encoded path segment or query value. */
  url: z.string().min(1),
  headers: z.record(z.string(), z.string()).default({}),
  /** A JSON body for lookups that need one (POST); string leaves are templates. */
  body: z.unknown().optional(),
  expect: z
    .strictObject({
      /** The status of a record in the right state. 404 and 410 mean the record is missing. */
      status: rangedNumber('expect.status').default(200),
      /** Fields of the JSON response body. */
      body: expectedFieldsSchema.default({}),
      tolerance: toleranceSchema,
    })
    .default({ status: 200, body: {}, tolerance: 0 }),
});

export type HttpCheckSpec = z.infer<typeof HttpCheckSchema>;

/** Statuses saying the record does not exist (unless the check expects exactly that status). */
const MISSING_STATUSES = new Set([404, 410]);

/** Compiles the request and the expectations of an HTTP check. */
export function compileHttpCheck(spec: HttpCheckSpec): CompiledCheck {
  const request = compileHttpAction({
    type: 'http',
    method: spec.method,
    url: spec.url,
    headers: spec.headers,
    ...(spec.body !== undefined ? { body: spec.body } : {}),
  });
  const expectations = compileExpectations(spec.expect.body, 'expect.body');
  const issues = [...request.issues, ...(expectations.ok ? [] : expectations.issues)];
  if (!expectations.ok || issues.length > 0) return invalidCheck(issues);
  const expected = expectations.expectations;
  return {
    issues: [],
    references: mergeReferences([request.references, expected.references]),
    open: ({ concurrency, context }) => {
      const http = createHttpExecutor({ maxSockets: concurrency });
      const open: OpenCheck = {
        prepare: (record) => {
          const rendered = request.render(record, context);
          if (!rendered.ok) return rendered;
          const preview = rendered.preview;
          if (preview.type !== 'http') return { ok: false, reason: 'internal error: not an HTTP request' };
          const values = { record: record.fields, env: context.env, secrets: context.secrets };
          const fields = expected.render(values);
          if (!fields.ok) return fields;
          return {
            ok: true,
            value: (opts: AttemptOptions) =>
              http.check(preview, opts, (response, durationMs) =>
                judgeResponse(response, durationMs, spec.expect, expected, fields.value),
              ),
          };
        },
        setConcurrency: (concurrency) => http.setMaxSockets(concurrency),
        close: () => http.close(),
      };
      return Promise.resolve(open);
    },
  };
}

/**
 * The expected status is judged on its body fields; 404 and 410 mean the record is missing; another
 * 2xx is a mismatch of the status. Anything else (a 401, a redirect) means the check itself could not be
 * made, which retrying will not change. (429 and 5xx never get here: they are retried as failures.)
 */
function judgeResponse(
  response: CheckResponse,
  durationMs: number,
  expect: HttpCheckSpec['expect'],
  expectations: CompiledExpectations,
  expected: ExpectedFields,
): AttemptResult {
  const { status } = response;
  if (status === expect.status)
    return judgeBody(response, durationMs, expectations, expected, expect.tolerance);
  if (MISSING_STATUSES.has(status)) {
    return checked(durationMs, { status: 'missing', detail: `HTTP ${status}: no such record` }, status);
  }
  if (status >= 200 && status < 300) {
    const detail = `status: expected ${expect.status}, got ${status}`;
    const verdict = {
      status: 'mismatch' as const,
      detail,
      expected: { status: expect.status },
      actual: { status },
    };
    return checked(durationMs, verdict, status);
  }
  return failed(durationMs, {
    kind: status >= 400 && status < 500 ? 'http-4xx' : 'other',
    retryable: false,
    httpStatus: status,
    message: `the check got HTTP ${status} instead of ${expect.status}: ${quoted(response.body)}`,
  });
}

function judgeBody(
  response: CheckResponse,
  durationMs: number,
  expectations: CompiledExpectations,
  expected: ExpectedFields,
  tolerance: number,
): AttemptResult {
  const { status } = response;
  if (expectations.empty) return checked(durationMs, { status: 'verified' }, status);
  const unreadable = (message: string) =>
    failed(durationMs, { kind: 'other', retryable: false, httpStatus: status, message });
  if (response.truncated) return unreadable('the response body is larger than 1 MiB: not a record');
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return unreadable(`the response body is not JSON: ${quoted(response.body)}`);
  }
  return checked(durationMs, compareFields(expected, body, tolerance), status);
}

export const httpCheck: CheckKind<typeof HttpCheckSchema> = {
  type: 'http',
  schema: HttpCheckSchema,
  compile: (spec) => compileHttpCheck(spec),
  describe: (spec, vars) => `${spec.method} ${withEnv(spec.url, vars)}`,
  fieldHelp: {
    method: 'GET (default) or POST.',
    url: "URL template, like an HTTP action's: a record value is one encoded path segment or query value.",
    headers: 'Header templates; a value with a line break is refused.',
    body: 'A JSON body for lookups that need one (POST); string leaves are templates.',
    expect: 'What the answer must be: `status` (default 200), `body` fields, `tolerance` for numbers.',
  },
};
