/**
 * Compiles an HTTP action spec into what it would send for each record. This file cannot depend on the
 * vscode API, and rendering never touches the network: sending is the executor's job.
 */
import type { HttpActionSpec } from './httpSchema';
import type { ValidRecord } from '../../model/types';
import type {
  ActionIssue,
  CompiledAction,
  HttpPreview,
  RenderContext,
  RenderResult,
} from '../compiledAction';
import { invalidAction, renderOnlyAction } from '../compiledAction';
import type { CompiledJsonTemplate } from '../jsonTemplate';
import { compileJsonTemplate } from '../jsonTemplate';
import type { CompiledTemplate, TemplateValues } from '../template';
import { compileTemplate, contextCharacterProblem, mergeReferences } from '../template';

// RFC 9110 token characters: anything else in a header name is refused by Node and by fetch.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Compiles the URL, header and body templates once; issues name the field they are in. */
export function compileHttpAction(spec: HttpActionSpec): CompiledAction {
  const issues: ActionIssue[] = [];
  const url = compileField(spec.url, 'url', 'url', issues);
  const headers = compileHeaders(spec.headers, issues);
  const body = compileBody(spec, issues);
  if (issues.length > 0 || !url) return invalidAction(spec, issues);

  const references = mergeReferences([
    url.references(),
    ...headers.map(([, template]) => template.references()),
    ...(body ? [body.references()] : []),
  ]);
  return renderOnlyAction(spec, references, (record, ctx) =>
    renderHttp(spec, { url, headers, body }, record, ctx),
  );
}

interface CompiledHttpParts {
  url: CompiledTemplate;
  headers: [string, CompiledTemplate][];
  body: CompiledJsonTemplate | undefined;
}

function compileField(
  text: string,
  field: string,
  context: 'url' | 'header',
  issues: ActionIssue[],
): CompiledTemplate | undefined {
  const compiled = compileTemplate(text, context);
  if (compiled.ok) return compiled.template;
  issues.push({ field, message: `${compiled.message} (column ${compiled.column})` });
  return undefined;
}

function compileHeaders(
  headers: Record<string, string>,
  issues: ActionIssue[],
): [string, CompiledTemplate][] {
  const compiled: [string, CompiledTemplate][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      issues.push({ field: `headers.${name}`, message: `"${name}" is not a valid HTTP header name` });
      continue;
    }
    const template = compileField(value, `headers.${name}`, 'header', issues);
    if (template) compiled.push([name, template]);
  }
  return compiled;
}

function compileBody(spec: HttpActionSpec, issues: ActionIssue[]): CompiledJsonTemplate | undefined {
  if (spec.body === undefined) return undefined;
  // fetch refuses a body on GET, so the runbook is told now rather than at the first record.
  if (spec.method === 'GET') {
    issues.push({ field: 'body', message: 'a GET request cannot have a body: use POST, PUT or PATCH' });
    return undefined;
  }
  const compiled = compileJsonTemplate(spec.body, 'body');
  if (compiled.ok) return compiled.template;
  issues.push(...compiled.issues);
  return undefined;
}

function renderHttp(
  spec: HttpActionSpec,
  parts: CompiledHttpParts,
  record: ValidRecord,
  ctx: RenderContext,
): RenderResult {
  const values: TemplateValues = { record: record.fields, env: ctx.env, secrets: ctx.secrets };
  const url = parts.url.render(values);
  if (!url.ok) return url;

  const headers: Record<string, string> = {};
  for (const [name, template] of parts.headers) {
    const value = template.render(values);
    if (!value.ok) return { ok: false, reason: `header ${name}: ${value.reason}` };
    headers[name] = value.value;
  }

  let body: string | undefined;
  if (parts.body) {
    const rendered = parts.body.render(values);
    if (!rendered.ok) return { ok: false, reason: `body: ${rendered.reason}` };
    body = JSON.stringify(rendered.value);
    setDefaultHeader(headers, 'Content-Type', 'application/json');
  }
  if (ctx.idempotencyKey !== undefined) {
    const problem = contextCharacterProblem(ctx.idempotencyKey, 'header');
    if (problem) return { ok: false, reason: `the idempotency key ${problem}` };
    setDefaultHeader(headers, 'Idempotency-Key', ctx.idempotencyKey);
  }

  const preview: HttpPreview = { type: 'http', method: spec.method, url: url.value, headers };
  if (body !== undefined) preview.body = body;
  return { ok: true, preview };
}

/** Adds a header unless the spec already sets it (header names are case-insensitive). */
function setDefaultHeader(headers: Record<string, string>, name: string, value: string): void {
  const lower = name.toLowerCase();
  if (!Object.keys(headers).some((existing) => existing.toLowerCase() === lower)) headers[name] = value;
}
