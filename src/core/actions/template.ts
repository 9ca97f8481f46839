/**
 * The template language of action specs, with escaping chosen by where the result goes.
 * This file cannot depend on the vscode API.
 *
 * Placeholders: `${record:FIELD}` (dotted paths reach nested values), `${env:NAME}` (the runbook
 * environment's variables: trusted configuration), `${secret:NAME}`; `$${` is a literal `${`.
 *
 * The invariant every context enforces: a record value can never become a new URL path segment, a query
 * parameter, a header line, a command argument or code. A value that cannot be placed safely refuses the
 * record (a value, never an exception) so a dry run counts it as rejected with the reason.
 *
 * Why not a template engine (Handlebars, Mustache, lodash.template): they escape for HTML or not at all,
 * while each place here (URL segment, query, header, argv, JSON) needs its own refusal rules, and they
 * evaluate expressions, which record values must never reach.
 */
import type { SecretLookup } from '../secrets/secrets';

/** Where a rendered template goes; decides how substituted values are escaped. */
export type TemplateContext = 'url' | 'header' | 'argv' | 'text';

/** Where in a URL a placeholder sits, decided from the literal template text before it. */
export type UrlPart = 'path' | 'query' | 'fragment';

export type Placeholder =
  | { kind: 'record'; field: string; urlPart: UrlPart }
  | { kind: 'env'; name: string; urlPart: UrlPart }
  | { kind: 'secret'; name: string; urlPart: UrlPart };

export type TemplatePart = { kind: 'literal'; text: string } | Placeholder;

/** The record fields, environment variables and secrets a template needs (sorted, unique). */
export interface TemplateReferences {
  recordFields: string[];
  envNames: string[];
  secretNames: string[];
}

/** What placeholders are filled from when a template is rendered for one record. */
export interface TemplateValues {
  record: Readonly<Record<string, unknown>>;
  env: Readonly<Record<string, string>>;
  secrets: { resolve(name: string): SecretLookup };
}

/** A template error found while compiling, with the 1-based column it starts at. */
export interface TemplateError {
  ok: false;
  message: string;
  column: number;
}

/** A per-record outcome: the value, or why this record cannot be rendered. */
export type Rendered<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A template parsed once and rendered for each record. */
export interface CompiledTemplate {
  readonly source: string;
  readonly context: TemplateContext;
  readonly parts: readonly TemplatePart[];
  /** The placeholder when the template is exactly one placeholder and nothing else. */
  readonly wholePlaceholder: Placeholder | undefined;
  render(values: TemplateValues): Rendered<string>;
  references(): TemplateReferences;
}

const PLACEHOLDER_HELP = 'use ${record:FIELD}, ${env:NAME} or ${secret:NAME}';
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Field names from CSV headers may contain inner spaces; dots separate nested fields.
const FIELD_SEGMENT = /^[\p{L}\p{N}_-](?:[\p{L}\p{N}_ -]*[\p{L}\p{N}_-])?$/u;

// ------------------------------------------------------------------------------------------------ parse

/** Parses and checks a template for one context; errors are values with a column. */
export function compileTemplate(
  text: string,
  context: TemplateContext,
): { ok: true; template: CompiledTemplate } | TemplateError {
  const parsed = parseTemplate(text, context);
  if (!parsed.ok) return parsed;
  const parts = parsed.parts;
  const only = parts.length === 1 ? parts[0] : undefined;
  const template: CompiledTemplate = {
    source: text,
    context,
    parts,
    wholePlaceholder: only && only.kind !== 'literal' ? only : undefined,
    render: (values) => renderParts(parts, context, values),
    references: () => collectReferences(parts),
  };
  return { ok: true, template };
}

/** Lists the record fields, env names and secret names a template references (for `check`). */
export function listTemplateReferences(
  text: string,
): { ok: true; references: TemplateReferences } | TemplateError {
  // Context checks only concern literal characters; references are the same in every context.
  const parsed = parseTemplate(text, 'text');
  return parsed.ok ? { ok: true, references: collectReferences(parsed.parts) } : parsed;
}

/** Merges reference lists, keeping them sorted and unique. */
export function mergeReferences(lists: Iterable<TemplateReferences>): TemplateReferences {
  const fields = new Set<string>();
  const env = new Set<string>();
  const secrets = new Set<string>();
  for (const list of lists) {
    list.recordFields.forEach((name) => fields.add(name));
    list.envNames.forEach((name) => env.add(name));
    list.secretNames.forEach((name) => secrets.add(name));
  }
  return { recordFields: [...fields].sort(), envNames: [...env].sort(), secretNames: [...secrets].sort() };
}

function parseTemplate(
  text: string,
  context: TemplateContext,
): { ok: true; parts: TemplatePart[] } | TemplateError {
  const parts: TemplatePart[] = [];
  let literal = '';
  let literalStart = 0;
  let urlPart: UrlPart = 'path';
  let index = 0;
  const flushLiteral = (): TemplateError | undefined => {
    if (literal === '') return undefined;
    // Literal text is checked once, here, against the same rules as substituted values.
    const problem = contextCharacterProblem(literal, context);
    if (problem) return templateError(`the template text ${problem}`, literalStart);
    parts.push({ kind: 'literal', text: literal });
    urlPart = urlPartAfter(literal, urlPart);
    literal = '';
    return undefined;
  };
  while (index < text.length) {
    if (!text.startsWith('${', index)) {
      if (literal === '') literalStart = index;
      const escapedDollar = text.startsWith('$${', index);
      literal += escapedDollar ? '${' : text[index];
      index += escapedDollar ? 3 : 1;
      continue;
    }
    const close = text.indexOf('}', index + 2);
    if (close < 0) {
      return templateError(
        `unclosed placeholder "${text.slice(index, index + 20)}": add the closing "}"`,
        index,
      );
    }
    const literalError = flushLiteral();
    if (literalError) return literalError;
    const placeholder = parsePlaceholder(text.slice(index + 2, close), urlPart);
    if (typeof placeholder === 'string') return templateError(placeholder, index);
    parts.push(placeholder);
    index = close + 1;
  }
  return flushLiteral() ?? { ok: true, parts };
}

/** The URL part after a literal: the first `?` starts the query, a `#` starts the fragment. */
function urlPartAfter(literal: string, current: UrlPart): UrlPart {
  if (current === 'fragment' || literal.includes('#')) return 'fragment';
  if (current === 'query' || literal.includes('?')) return 'query';
  return 'path';
}

/** Returns the placeholder, or an error message. */
function parsePlaceholder(inner: string, urlPart: UrlPart): Placeholder | string {
  const colon = inner.indexOf(':');
  const namespace = colon < 0 ? undefined : inner.slice(0, colon);
  const name = colon < 0 ? '' : inner.slice(colon + 1);
  switch (namespace) {
    case 'record':
      if (!name.split('.').every((segment) => FIELD_SEGMENT.test(segment))) {
        return `invalid field name in \${${inner}}: use letters, digits, "_" or "-", with "." between nested fields`;
      }
      return { kind: 'record', field: name, urlPart };
    case 'env':
    case 'secret':
      if (!VARIABLE_NAME.test(name)) {
        return `invalid ${namespace} name in \${${inner}}: use letters, digits and "_", not starting with a digit`;
      }
      return { kind: namespace, name, urlPart };
    default:
      return `unknown placeholder \${${inner}}: ${PLACEHOLDER_HELP}`;
  }
}

function templateError(message: string, index: number): TemplateError {
  return { ok: false, message, column: index + 1 };
}

function collectReferences(parts: readonly TemplatePart[]): TemplateReferences {
  const references: TemplateReferences = { recordFields: [], envNames: [], secretNames: [] };
  for (const part of parts) {
    if (part.kind === 'record') references.recordFields.push(part.field);
    else if (part.kind === 'env') references.envNames.push(part.name);
    else if (part.kind === 'secret') references.secretNames.push(part.name);
  }
  return mergeReferences([references]);
}

// ----------------------------------------------------------------------------------------------- render

/**
 * The raw value of one placeholder: a record value keeps its type (for whole-placeholder JSON leaves),
 * env and secret values are strings. A missing field, env variable or secret refuses the record.
 */
export function resolvePlaceholder(placeholder: Placeholder, values: TemplateValues): Rendered<unknown> {
  switch (placeholder.kind) {
    case 'record': {
      const value = lookupField(values.record, placeholder.field);
      return value === undefined
        ? { ok: false, reason: `field ${placeholder.field} is missing from the record` }
        : { ok: true, value };
    }
    case 'env':
      return Object.hasOwn(values.env, placeholder.name)
        ? { ok: true, value: values.env[placeholder.name] }
        : { ok: false, reason: `env ${placeholder.name} is not defined in the selected environment's vars` };
    case 'secret': {
      const lookup = values.secrets.resolve(placeholder.name);
      return lookup.ok ? { ok: true, value: lookup.value } : lookup;
    }
  }
}

/**
 * Reads a field, first as a flat name (CSV headers may contain dots), then as a dotted path. Only own
 * properties are read, so `${record:constructor}` cannot reach into prototypes.
 */
function lookupField(fields: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(fields, path)) return fields[path];
  let current: unknown = fields;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** A placeholder's value as text for string interpolation; objects are inserted as JSON. */
function placeholderText(placeholder: Placeholder, values: TemplateValues): Rendered<string> {
  const resolved = resolvePlaceholder(placeholder, values);
  if (!resolved.ok) return resolved;
  const value = resolved.value;
  if (value === null) return { ok: false, reason: `${describeSource(placeholder)} is null` };
  if (typeof value === 'string') return { ok: true, value };
  if (typeof value === 'object') return { ok: true, value: JSON.stringify(value) };
  return { ok: true, value: String(value) };
}

function renderParts(
  parts: readonly TemplatePart[],
  context: TemplateContext,
  values: TemplateValues,
): Rendered<string> {
  let output = '';
  for (const part of parts) {
    if (part.kind === 'literal') {
      output += part.text;
      continue;
    }
    const text = placeholderText(part, values);
    if (!text.ok) return text;
    const escaped = escapeForContext(part, text.value, context, output);
    if (!escaped.ok) return escaped;
    output += escaped.value;
  }
  return context === 'url' ? parseRenderedUrl(output, parts) : { ok: true, value: output };
}

function escapeForContext(
  placeholder: Placeholder,
  value: string,
  context: TemplateContext,
  renderedSoFar: string,
): Rendered<string> {
  if (context === 'url') return escapeForUrl(placeholder, value, renderedSoFar);
  const problem = contextCharacterProblem(value, context);
  if (problem) return { ok: false, reason: `${describeValue(placeholder, value)} ${problem}` };
  return { ok: true, value };
}

// ------------------------------------------------------------------------------------------------- url

// An absolute URL whose scheme and host are complete: something after `scheme://host` already ends them.
const AUTHORITY_ENDED = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\\]*[/?#\\]/;

function escapeForUrl(placeholder: Placeholder, value: string, renderedSoFar: string): Rendered<string> {
  // Env values are trusted configuration, typically a base URL, so they are inserted as written.
  if (placeholder.kind === 'env') return { ok: true, value };
  if (placeholder.kind === 'record' && !AUTHORITY_ENDED.test(renderedSoFar)) {
    return {
      ok: false,
      reason: `field ${placeholder.field}: a record value cannot choose the URL's scheme or host: put it after the first "/" of the path`,
    };
  }
  // WHATWG URL parsers treat `.`, `..` and their %2e spellings as dot segments, and encodeURIComponent
  // leaves dots alone: such a value would climb out of its segment, so it is refused, as is an empty one.
  if (placeholder.urlPart === 'path' && (value === '' || value === '.' || value === '..')) {
    return { ok: false, reason: `${describeValue(placeholder, value)} cannot be used as a URL path segment` };
  }
  try {
    return { ok: true, value: encodeURIComponent(value) };
  } catch {
    return {
      ok: false,
      reason: `${describeSource(placeholder)}: contains an unpaired surrogate and cannot be URL-encoded`,
    };
  }
}

/** The final URL must parse; what is returned is its serialization, exactly what a client sends. */
function parseRenderedUrl(url: string, parts: readonly TemplatePart[]): Rendered<string> {
  try {
    return { ok: true, value: new URL(url).href };
  } catch {
    // A URL that holds a secret is not repeated in a reason, which may be logged.
    const shown = parts.some((part) => part.kind === 'secret') ? '' : ` ${JSON.stringify(url)}`;
    return { ok: false, reason: `the URL${shown} is not a valid absolute URL after substitution` };
  }
}

// ---------------------------------------------------------------------------------------- header, argv

// Node's http module rejects any header value character outside TAB, visible ASCII and Latin-1.
const INVALID_HEADER_CHARACTER = /[^\t\x20-\x7e\x80-\xff]/;

/** Why a text cannot go into this context (header and argv rules), or undefined when it can. */
export function contextCharacterProblem(text: string, context: TemplateContext): string | undefined {
  if (context === 'header') {
    const match = INVALID_HEADER_CHARACTER.exec(text);
    return match
      ? `contains ${describeCharacter(match[0])}, which is not allowed in an HTTP header value`
      : undefined;
  }
  if (context === 'argv' && text.includes('\0')) {
    return 'contains a NUL character, which cannot be passed as a command argument';
  }
  return undefined;
}

function describeCharacter(character: string): string {
  if (character === '\r') return 'a carriage return (CR)';
  if (character === '\n') return 'a line feed (LF)';
  if (character === '\0') return 'a NUL character';
  const code = character.codePointAt(0) ?? 0;
  return `the character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

// -------------------------------------------------------------------------------------------- messages

/** Names where a value came from, e.g. `field id`, `env BASE_URL`, `secret TOKEN`. */
export function describeSource(placeholder: Placeholder): string {
  return placeholder.kind === 'record'
    ? `field ${placeholder.field}`
    : `${placeholder.kind} ${placeholder.name}`;
}

/** `field id: ".."` for record and env values; a secret's value is never written into a reason. */
export function describeValue(placeholder: Placeholder, value: string): string {
  if (placeholder.kind === 'secret') return `secret ${placeholder.name}: its value`;
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return `${describeSource(placeholder)}: ${JSON.stringify(shown)}`;
}
