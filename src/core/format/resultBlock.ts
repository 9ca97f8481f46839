/**
 * The embedded result of a cell: a ```` ```result for=ID ```` block right after the cell, so the committed
 * runbook records what the last run of each cell did. Details (every record's outcome) stay in the ledger.
 *
 * Writing a result touches nothing but that block: every other byte of the document is kept, so a
 * result lands in a code review as a diff of a few lines. The YAML is written in a fixed order with
 * human-friendly comments (a duration in words), and is validated against {@link ResultSchema} before it
 * is returned, so a runbook the tool wrote always parses again.
 */
import { parse, stringify } from 'yaml';
import { UserError } from '../model/types';
import {
  parseRunbookFile,
  renderFence,
  type CellSegment,
  type ResultSegment,
  type RunbookFile,
  type Segment,
} from './runbookFile';
import { ResultSchema, type Result } from './schemas';

/** Field order of a result block: what happened first, identifiers last. */
const FIELD_ORDER: readonly (keyof Result)[] = [
  'outcome',
  'reason',
  'mode',
  'environment',
  'operator',
  'startedAt',
  'finishedAt',
  'durationMs',
  'counts',
  'doneElsewhere',
  'rate',
  'errors',
  'failures',
  'run',
  'fingerprint',
];

/**
 * Returns `text` with the result block of cell `cellId` set to `result`: replaced in place when the cell
 * has one, otherwise inserted right after the cell with one blank line between them. Every other byte
 * is unchanged. Throws a UserError when the document cannot be split into cells or has no such cell
 * (it was renamed or deleted since the run started).
 */
export function setCellResult(text: string, cellId: string, result: Result): string {
  const { doc, issues } = parseRunbookFile(text, 'runbook');
  if (!doc) {
    throw new UserError(`the runbook cannot be read as cells (${issues[0]?.message ?? 'unknown problem'})`);
  }
  const index = doc.segments.findIndex((s) => s.type === 'cell' && s.id === cellId);
  if (index === -1) throw new UserError(`the runbook has no cell with id=${cellId} any more`);
  const cell = doc.segments[index] as CellSegment;
  const existing = attachedResult(doc.segments, index, cellId);
  const block = renderResultBlock(cellId, result, doc.eol);
  const segments = [...doc.segments];
  if (existing) {
    segments[existing.index] = { ...existing.segment, ...blockParts(block, existing.segment.close) };
  } else {
    segments.splice(index, 1, ...insertAfter(cell, block, doc, segments[index + 1]));
  }
  return serialize(doc, segments);
}

/** The exact text of a result block (fence included, ending with a line break). */
export function renderResultBlock(cellId: string, result: Result, eol: '\n' | '\r\n' = '\n'): string {
  return renderFence(`result for=${cellId}`, renderResultBody(result, eol), eol);
}

/**
 * The YAML body of a result block, in a fixed field order, with comments for readers of the file.
 * Throws when the result would not validate: a runbook the tool writes must always parse again.
 */
export function renderResultBody(result: Result, eol: '\n' | '\r\n' = '\n'): string {
  const lines: string[] = [];
  for (const field of FIELD_ORDER) {
    const value = result[field];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      lines.push(`${field}:`, ...value.map((item: string) => `  - ${yamlScalar(item)}`));
      continue;
    }
    if (typeof value === 'object') {
      if (Object.keys(value).length === 0) continue;
      lines.push(`${field}:`);
      for (const [key, count] of Object.entries(value)) lines.push(`  ${yamlKey(key)}: ${yamlScalar(count)}`);
      continue;
    }
    lines.push(`${field}: ${yamlScalar(value)}${commentFor(field, value)}`);
  }
  const body = lines.map((line) => line + eol).join('');
  const checked = ResultSchema.safeParse(parse(body));
  if (!checked.success) throw new Error(`result block does not validate: ${checked.error.message}`);
  return body;
}

/**
 * What a result block's YAML body says, validated by {@link ResultSchema} exactly as the runbook's parser
 * validates it; undefined when the body is not YAML or not a valid result (the parser reports why).
 */
export function readResultBody(body: string): Result | undefined {
  try {
    const checked = ResultSchema.safeParse(parse(body));
    return checked.success ? checked.data : undefined;
  } catch {
    return undefined;
  }
}

/** The result block attached to the cell at `index` (directly after it, or after one blank notes run). */
function attachedResult(
  segments: Segment[],
  index: number,
  cellId: string,
): { index: number; segment: ResultSegment } | undefined {
  for (const candidate of [index + 1, index + 2]) {
    const segment = segments[candidate];
    if (segment?.type === 'result' && segment.for === cellId) return { index: candidate, segment };
    if (segment?.type !== 'notes' || segment.text.trim() !== '') return undefined;
  }
  return undefined;
}

/**
 * The cell followed by a blank line and the new block. A cell that ends the file without a line break
 * gets one (a fence cannot follow on the same line); text right after the cell gets a blank line too,
 * so it stays a paragraph of its own.
 */
function insertAfter(
  cell: CellSegment,
  block: string,
  doc: RunbookFile,
  next: Segment | undefined,
): Segment[] {
  const eol = doc.eol;
  const cellClose = /\n$/.test(cell.close) ? cell.close : cell.close + eol;
  const separator: Segment = { type: 'notes', text: eol, line: cell.line };
  // The block takes over the cell's place at the end of the file: with a final line break or without.
  const result: Segment = { type: 'result', for: cell.id, line: cell.line, ...blockParts(block, cell.close) };
  const needsTrailingBlank = next !== undefined && !/^\r?\n/.test(segmentText(next));
  const trailing: Segment[] = needsTrailingBlank ? [{ type: 'notes', text: eol, line: cell.line }] : [];
  return [{ ...cell, close: cellClose }, separator, result, ...trailing];
}

/** Splits rendered fence text into open, body and close; keeps a missing final line break missing. */
function blockParts(block: string, previousClose: string): { open: string; body: string; close: string } {
  const firstBreak = block.indexOf('\n') + 1;
  const lastFence = block.lastIndexOf('\n', block.length - 2) + 1;
  const close = block.slice(lastFence);
  return {
    open: block.slice(0, firstBreak),
    body: block.slice(firstBreak, lastFence),
    close: /\n$/.test(previousClose) ? close : close.replace(/\r?\n$/, ''),
  };
}

function segmentText(segment: Segment): string {
  return segment.type === 'notes' ? segment.text : segment.open;
}

function serialize(doc: RunbookFile, segments: Segment[]): string {
  let out = doc.frontMatter;
  for (const s of segments) out += s.type === 'notes' ? s.text : s.open + s.body + s.close;
  return out;
}

/** A scalar as YAML: plain when that reads back as the same value, quoted otherwise; always one line. */
function yamlScalar(value: string | number): string {
  if (typeof value === 'number') return String(value);
  return stringify(value.replace(/\s*[\r\n]+\s*/g, ' '), { lineWidth: 0 }).trimEnd();
}

function yamlKey(key: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(key) ? key : yamlScalar(key);
}

function commentFor(field: keyof Result, value: string | number): string {
  if (field === 'durationMs' && typeof value === 'number') return ` # ${humanDuration(value)}`;
  if (field === 'rate') return ' # records per second';
  return '';
}

/** 950 → "0.95 s", 83_000 → "1 min 23 s", 7_380_000 → "2 h 3 min". */
export function humanDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 10) return `${Number(seconds.toFixed(2))} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
