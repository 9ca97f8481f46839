/**
 * The `.backfill` text format, at the level of exact text: a YAML front matter between `---` lines, then
 * Markdown prose (notes) and fenced blocks whose info string names a cell kind and a stable id:
 *
 *     ```dry-run id=preview-orders
 *     job: orders
 *     ```
 *
 * A document is kept as a list of segments that hold their exact text, so serializing an unchanged
 * document returns the same bytes. Fences whose info string is not a cell kind (```bash, say) are
 * prose and stay inside the notes around them.
 */
import type { Issue } from '../model/types';

export const CELL_KINDS = ['job', 'checklist', 'dry-run', 'execute', 'verify'] as const;
export type CellKind = (typeof CELL_KINDS)[number];
/** Kinds whose cells can be run (dry-run, or executed for real). */
export const RUNNABLE_KINDS: readonly CellKind[] = ['dry-run', 'execute', 'verify'];

export interface NotesSegment {
  type: 'notes';
  /** Markdown exactly as written, blank lines included. */
  text: string;
  line: number;
}

export interface FencedSegment {
  /** Exact opening line (with its line break), e.g. "```dry-run id=preview\n". */
  open: string;
  /** Exact body text between the fences. */
  body: string;
  /** Exact closing line (with its line break, if any). */
  close: string;
  /** 1-based line of the opening fence. */
  line: number;
}

export interface CellSegment extends FencedSegment {
  type: 'cell';
  kind: CellKind;
  id: string;
}

/**
 * The embedded last result of a cell: ```result for=ID```, placed right after the cell. A cell keeps two:
 * its last real run, and after it its last dry run (```result for=ID mode=dry-run```), so a dry run never
 * replaces the record of a real run (see resultSlots.ts).
 */
export interface ResultSegment extends FencedSegment {
  type: 'result';
  for: string;
  /** True for the dry-run block (`mode=dry-run`), which follows the real run's block. */
  dryRun?: boolean;
}

export type Segment = NotesSegment | CellSegment | ResultSegment;

export interface RunbookFile {
  /** Exact front matter including both `---` lines. */
  frontMatter: string;
  /** The YAML between the `---` lines. */
  headerText: string;
  /** 1-based line of the first header YAML line. */
  headerLine: number;
  segments: Segment[];
  /** Line break used when new text is written: the document's own. */
  eol: '\n' | '\r\n';
}

interface Line {
  text: string; // without its line break
  raw: string; // with its line break
  number: number;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  let number = 1;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    const raw = end === -1 ? text.slice(start) : text.slice(start, end + 1);
    lines.push({ text: raw.replace(/\r?\n$/, ''), raw, number });
    start += raw.length;
    number += 1;
  }
  return lines;
}

const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;

interface FenceOpening {
  marker: string;
  info: string;
}

function fenceOpening(line: string): FenceOpening | undefined {
  const match = FENCE.exec(line);
  if (!match) return undefined;
  const marker = match[2]!;
  const info = match[3]!.trim();
  // CommonMark: a backtick fence's info string may not contain backticks.
  if (marker.startsWith('`') && info.includes('`')) return undefined;
  return { marker, info };
}

function closesFence(line: string, marker: string): boolean {
  const trimmed = line.replace(/^ {0,3}/, '').trimEnd();
  return trimmed.length >= marker.length && trimmed === marker[0]!.repeat(trimmed.length);
}

/** Parses `kind id=ID` or `result for=ID`; returns undefined when the info string is not ours. */
function parseInfo(
  info: string,
): { kind: CellKind | 'result'; attrs: Map<string, string>; bad?: string } | undefined {
  const [word, ...rest] = info.split(/\s+/);
  if (word !== 'result' && !(CELL_KINDS as readonly string[]).includes(word ?? '')) return undefined;
  const attrs = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { kind: word as CellKind, attrs, bad: part };
    attrs.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return { kind: word as CellKind | 'result', attrs };
}

const ID = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Splits a document into its front matter and segments. Structural problems (no front matter, an
 * unterminated cell fence, a missing or duplicate id) are returned as located issues.
 */
export function parseRunbookFile(text: string, file: string): { doc?: RunbookFile; issues: Issue[] } {
  const issues: Issue[] = [];
  const lines = splitLines(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  if (lines.length === 0 || lines[0]!.text !== '---') {
    issues.push({
      file,
      line: 1,
      message:
        'missing front matter: a runbook starts with a "---" line, the YAML header (title, name, owner), and "---"',
    });
    return { issues };
  }
  const headerEnd = lines.findIndex((l, i) => i > 0 && (l.text === '---' || l.text === '...'));
  if (headerEnd === -1) {
    issues.push({ file, line: 1, message: 'unterminated front matter: add a "---" line after the header' });
    return { issues };
  }
  const frontMatter = lines
    .slice(0, headerEnd + 1)
    .map((l) => l.raw)
    .join('');
  const headerText = lines
    .slice(1, headerEnd)
    .map((l) => l.raw)
    .join('');

  const segments: Segment[] = [];
  let notes: Line[] = [];
  const flushNotes = () => {
    if (notes.length > 0) {
      segments.push({ type: 'notes', text: notes.map((l) => l.raw).join(''), line: notes[0]!.number });
      notes = [];
    }
  };
  const seenIds = new Map<string, number>();

  let i = headerEnd + 1;
  while (i < lines.length) {
    const line = lines[i]!;
    const opening = fenceOpening(line.text);
    if (!opening) {
      notes.push(line);
      i += 1;
      continue;
    }
    const closeIndex = lines.findIndex((l, j) => j > i && closesFence(l.text, opening.marker));
    const info = parseInfo(opening.info);
    if (!info) {
      // A fence of prose (```bash, say): keep it in the notes, skipping its body so a cell-looking
      // info string inside it is not taken for a cell.
      const end = closeIndex === -1 ? lines.length : closeIndex + 1;
      notes.push(...lines.slice(i, end));
      i = end;
      continue;
    }
    if (closeIndex === -1) {
      issues.push({
        file,
        line: line.number,
        message: `unterminated ${info.kind} fence: close it with a line of ${opening.marker}`,
      });
      return { issues };
    }
    flushNotes();
    const fenced: FencedSegment = {
      open: line.raw,
      body: lines
        .slice(i + 1, closeIndex)
        .map((l) => l.raw)
        .join(''),
      close: lines[closeIndex]!.raw,
      line: line.number,
    };
    const segment = fencedSegment(info, fenced, file, issues, seenIds);
    if (segment) segments.push(segment);
    i = closeIndex + 1;
  }
  flushNotes();
  attachResults(segments, file, issues);
  return { doc: { frontMatter, headerText, headerLine: 2, segments, eol }, issues };
}

function fencedSegment(
  info: NonNullable<ReturnType<typeof parseInfo>>,
  fenced: FencedSegment,
  file: string,
  issues: Issue[],
  seenIds: Map<string, number>,
): CellSegment | ResultSegment | undefined {
  const attrName = info.kind === 'result' ? 'for' : 'id';
  const at = { file, line: fenced.line };
  if (info.bad !== undefined) {
    issues.push({
      ...at,
      message: `unexpected "${info.bad}" in the fence: write \`${info.kind} ${attrName}=ID\``,
    });
    return undefined;
  }
  const dryRun = info.kind === 'result' && info.attrs.get('mode') === 'dry-run';
  const unknown = [...info.attrs.keys()].filter((k) => k !== attrName && !(dryRun && k === 'mode'));
  if (unknown.length > 0) {
    issues.push({
      ...at,
      message: `unknown fence attribute "${unknown[0]}": only ${attrName}=ID is allowed`,
    });
    return undefined;
  }
  const id = info.attrs.get(attrName);
  if (!id) {
    issues.push({
      ...at,
      message: `${info.kind} cell has no ${attrName}: write \`${info.kind} ${attrName}=ID\``,
    });
    return undefined;
  }
  if (!ID.test(id)) {
    issues.push({
      ...at,
      cell: id,
      message: `invalid id "${id}": use lower-case letters, digits, ".", "_" or "-", starting with a letter or digit`,
    });
    return undefined;
  }
  if (info.kind === 'result') return { type: 'result', for: id, ...(dryRun ? { dryRun } : {}), ...fenced };
  const first = seenIds.get(id);
  if (first !== undefined) {
    issues.push({
      ...at,
      cell: id,
      message: `duplicate cell id "${id}": it is already used at line ${first}`,
    });
    return undefined;
  }
  seenIds.set(id, fenced.line);
  return { type: 'cell', kind: info.kind, id, ...fenced };
}

/** A result block belongs to the cell right before it (blank lines allowed between them). */
function attachResults(segments: Segment[], file: string, issues: Issue[]): void {
  segments.forEach((segment, index) => {
    if (segment.type !== 'result') return;
    let previous = segments[index - 1];
    if (previous?.type === 'notes' && previous.text.trim() === '') previous = segments[index - 2];
    // The dry-run block may follow the real run's block of the same cell.
    const afterRun =
      segment.dryRun && previous?.type === 'result' && !previous.dryRun && previous.for === segment.for;
    if (!afterRun && (previous?.type !== 'cell' || previous.id !== segment.for)) {
      issues.push({
        file,
        line: segment.line,
        cell: segment.for,
        message: `result for=${segment.for} must directly follow the cell with id=${segment.for}`,
      });
    }
  });
}

/** Joins the segments back into text: byte-identical for a document that was not changed. */
export function serializeRunbookFile(doc: RunbookFile): string {
  let out = doc.frontMatter;
  for (const segment of doc.segments) {
    out += segment.type === 'notes' ? segment.text : segment.open + segment.body + segment.close;
  }
  return out;
}

/** Exact text of a new cell, ending with a line break. */
export function renderFence(info: string, body: string, eol: '\n' | '\r\n' = '\n'): string {
  const fence = longestBacktickRun(body) >= 3 ? '`'.repeat(longestBacktickRun(body) + 1) : '```';
  const text = body === '' || body.endsWith('\n') ? body : body + eol;
  return `${fence}${info}${eol}${text}${fence}${eol}`;
}

function longestBacktickRun(text: string): number {
  return Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
}
