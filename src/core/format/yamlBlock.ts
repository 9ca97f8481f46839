/**
 * Parses one YAML block (the header or a cell body) and validates it with a zod schema, turning every
 * problem into a located issue: `FILE:LINE: cell ID: FIELD: what is wrong, what is expected`.
 *
 * The parsing itself is the `yaml` library's; what stays ours is only mapping its nodes and zod's issue
 * paths back to runbook lines, which no library does for a YAML block inside another file.
 */
import { LineCounter, parseDocument, isMap, isSeq, visit } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import type { Issue } from '../model/types';

export interface BlockLocation {
  file: string;
  /** File line of the block's first line. */
  firstLine: number;
  /** Line to report when the block is empty (a cell's opening fence). */
  emptyLine?: number;
  cell?: string;
  /**
   * Where a top-level field this block does not take belongs instead ("maxRejected is a field of dry-run
   * and execute cells, not of verify cells"), or undefined when it belongs nowhere else.
   */
  elsewhere?: (key: string) => string | undefined;
}

export type Parsed<T> = { ok: true; value: T; locate: (path: PropertyKey[]) => number } | { ok: false };

/** Parses `text` as YAML and validates it; pushes located issues and returns ok:false on any problem. */
export function parseYamlBlock<S extends z.ZodType>(
  text: string,
  schema: S,
  where: BlockLocation,
  issues: Issue[],
): Parsed<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number) => where.firstLine + lineCounter.linePos(offset).line - 1;
  const base = { file: where.file, ...(where.cell ? { cell: where.cell } : {}) };

  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      issues.push({
        ...base,
        line: lineOf(error.pos[0]),
        field: 'YAML',
        message: yamlMessage(error.message),
      });
    }
    return { ok: false };
  }
  const locate = (path: PropertyKey[]) =>
    locatePath(doc.contents, path, lineOf, where.emptyLine ?? where.firstLine);
  const data = toPlainData(doc);
  if ('tooManyAliases' in data) {
    issues.push({ ...base, line: lineOf(data.at), field: 'YAML', message: ALIAS_BOMB_MESSAGE });
    return { ok: false };
  }
  const result = schema.safeParse(data.value ?? emptyValueFor(doc.contents), { reportInput: true });
  if (result.success) return { ok: true, value: result.data, locate };

  for (const issue of result.error.issues) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({
          ...base,
          line: locate([...path, key]),
          field: fieldName([...path, key]),
          message: unknownFieldMessage(key, path.length === 0 ? where.elsewhere?.(key) : undefined),
        });
      }
      continue;
    }
    issues.push({ ...base, line: locate(path), field: fieldName(path), message: issueMessage(issue) });
  }
  return { ok: false };
}

const ALIAS_BOMB_MESSAGE =
  'too many aliases (*name): the block expands to more than a runbook can hold, as in a "billion ' +
  'laughs" attack: write the values out instead of through nested aliases';

/**
 * The block as plain values. The yaml library refuses to expand aliases beyond a budget (a few nested
 * aliases can stand for billions of nodes) by throwing: that is the runbook's mistake, not a bug, so it
 * becomes a located issue at the first alias.
 */
function toPlainData(doc: Document): { value: unknown } | { tooManyAliases: true; at: number } {
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    if (!/alias/i.test((error as Error).message)) throw error;
    let at = 0;
    visit(doc, {
      Alias(_key, node) {
        at = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    return { tooManyAliases: true, at };
  }
}

/** The yaml library's own default: plenty for anchors that share a block of settings. */
const MAX_ALIAS_COUNT = 100;

/** An empty block is `null` in YAML; report it as missing content rather than as a type error. */
function emptyValueFor(contents: unknown): unknown {
  return contents === null ? undefined : null;
}

function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '') + ': fix the YAML syntax';
}

export function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(cell)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

/** The file line of the deepest YAML node along `path` (the key, when the value is missing). */
function locatePath(
  root: unknown,
  path: readonly PropertyKey[],
  lineOf: (offset: number) => number,
  fallback: number,
): number {
  let node = root as Node | null;
  let line = node?.range ? lineOf(node.range[0]) : fallback;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === step);
      if (!pair) return line;
      const key = pair.key as Node;
      if (key.range) line = lineOf(key.range[0]);
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step] as Node | undefined;
      if (!item) return line;
      if (item.range) line = lineOf(item.range[0]);
      node = item;
    } else {
      return line;
    }
  }
  return line;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) return `required, expected ${article(issue.expected)}`;
      return `expected ${article(issue.expected)}, got ${describe(input)}`;
    }
    case 'invalid_union': {
      const withDiscriminator = issue as { options?: unknown[]; discriminator?: string; input?: unknown };
      if (withDiscriminator.options) {
        const options = withDiscriminator.options.map((o) => JSON.stringify(o)).join(', ');
        const got =
          withDiscriminator.input === undefined ? 'nothing' : JSON.stringify(withDiscriminator.input);
        return `got ${got}, expected one of ${options}`;
      }
      return `${issue.message}: see the runbook format in README.md`;
    }
    case 'invalid_value':
      return `got ${JSON.stringify((issue as { input?: unknown }).input)}, expected one of ${issue.values
        .map((v) => JSON.stringify(v))
        .join(', ')}`;
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

function article(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    record: 'a mapping',
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
  };
  return names[type] ?? type;
}

/** Every field name the schemas know, for "did you mean" suggestions. */
const KNOWN_FIELDS = [
  'title', 'name', 'owner', 'environments', 'defaultEnvironment', 'stakeholders', 'description', 'production',
  'vars', 'role', 'contact', 'source', 'action', 'throttle', 'type', 'path', 'delimiter', 'key', 'fields',
  'query', 'argv', 'records', 'required', 'pattern', 'method', 'url', 'headers', 'body', 'mode', 'env',
  'export', 'rate', 'concurrency', 'batchSize', 'timeoutMs', 'retries', 'first', 'keys', 'keysFile', 'sample',
  'count', 'percent', 'seed', 'range', 'from', 'to', 'exclude', 'job', 'subset', 'preview', 'random',
  'successThreshold', 'check', 'expect', 'status', 'tolerance', 'expectExitCode', 'id', 'item', 'checked',
  'by', 'at', 'run', 'environment', 'operator', 'startedAt', 'finishedAt', 'durationMs', 'outcome',
  'fingerprint', 'counts', 'errors', 'retryOn', 'errorBudget', 'maxFailureRatio', 'window',
  'maxConsecutiveFailures', 'maxFailures', 'resend', 'maxRejected', 'failures', 'doneElsewhere', 'ledger',
  'schema', 'chunkSize', 'leaseSeconds', 'outageSeconds',
]; // prettier-ignore

/**
 * Why `key` is refused here. A field spelt right but placed wrong is never "did you mean" itself: it says
 * where it belongs when that is known, and that it is not a field here otherwise.
 */
function unknownFieldMessage(key: string, elsewhere: string | undefined): string {
  if (elsewhere) return `${elsewhere}: remove it here`;
  if (KNOWN_FIELDS.includes(key)) {
    return `"${key}" is not a field here: remove it, or move it where it belongs (see the runbook format in README.md)`;
  }
  const suggestion = closest(key, KNOWN_FIELDS);
  return suggestion
    ? `unknown field "${key}": did you mean "${suggestion}"?`
    : `unknown field "${key}": remove it or check the spelling`;
}

/**
 * The misspelt field and the field meant, when `message` is an unknown-field problem with a suggestion
 * (what the editor offers as a quick fix); undefined for any other message.
 */
export function suggestedField(message: string): { key: string; suggestion: string } | undefined {
  const match = /unknown field "([^"]+)": did you mean "([^"]+)"\?/.exec(message);
  return match ? { key: match[1]!, suggestion: match[2]! } : undefined;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(1, Math.floor(candidate.length / 4)) && (!best || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = current;
  }
  return previous[b.length]!;
}
