/**
 * A runbook as the cells a notebook editor shows, and back: exact text both ways.
 *
 * - the front matter becomes a `header` cell (its YAML, editable like any cell);
 * - prose becomes a notes (Markdown) cell; blank lines around prose are kept in the cells' metadata
 *   (`trailing`), so the cell shows the prose alone and an unchanged document is written back byte for
 *   byte;
 * - each fenced cell (job, checklist, dry-run, execute, verify) becomes a YAML cell whose metadata keeps
 *   its kind, its id and its exact fence lines;
 * - a ```` ```result for=ID ```` block is not a cell of its own: it rides in the metadata of the cell it
 *   follows, and is written back right after it.
 *
 * A document that cannot be split into cells without losing text (no front matter, an unterminated
 * fence, a fence with a malformed id) becomes one `raw` cell holding the whole text, so it still opens
 * and saves unchanged while the problem is fixed.
 *
 * This folder cannot depend on the vscode API: the extension's serializer is a thin adapter over this.
 */
import { parse } from 'yaml';
import { CELL_KINDS, parseRunbookFile, serializeRunbookFile, type CellKind } from './runbookFile';

export type Eol = '\n' | '\r\n';

/** The exact text of a result block that follows a cell. */
export interface ResultText {
  /** Blank lines between the cell's closing fence and the block. */
  gap: string;
  open: string;
  body: string;
  close: string;
}

interface FenceText extends Spacing {
  /** Exact opening line, line break included (`---` for the header). */
  open: string;
  /** Exact closing line, with its line break when it has one. */
  close: string;
  /** The line break that ended the body, taken off the cell's value. */
  bodyEnd: string;
  /** The exact body when the value was empty (a body of blank lines). */
  emptyBody?: string;
}

interface Spacing {
  /** Whitespace after the cell (and its result) up to the next cell's text. */
  trailing: string;
  /** Blank lines written before a cell that was added in the editor. */
  leading?: string;
}

export type CellMeta =
  | ({ kind: 'header' } & FenceText)
  | ({ kind: CellKind; id: string; result?: ResultText; dryRun?: ResultText } & FenceText)
  /** A result block that does not follow its cell: kept where it is, and reported. */
  | ({ kind: 'result'; id: string } & FenceText)
  | ({ kind: 'notes' } & Spacing)
  | ({ kind: 'raw' } & Spacing);

export interface CellText {
  /** True for notes (Markdown) cells. */
  markup: boolean;
  /** What the editor shows: the cell's text without its fences. */
  value: string;
  /** Absent for a cell the user added in the editor: its kind and id are then chosen on writing. */
  meta?: CellMeta;
}

export interface RunbookCells {
  cells: CellText[];
  eol: Eol;
}

/** Where a cell landed in the written text (1-based lines), to map file-line issues back to cells. */
export interface CellLines {
  /** Line of the opening fence (or `---`); absent for notes. */
  fence?: number;
  /** Line of the value's first line. */
  first: number;
  /** Number of lines of the value (at least 1). */
  lines: number;
}

/** Splits a runbook into cells. Never throws: text it cannot split becomes one `raw` cell. */
export function runbookToCells(text: string): RunbookCells {
  const eol: Eol = text.includes('\r\n') ? '\r\n' : '\n';
  const { doc } = parseRunbookFile(text, 'runbook');
  if (!doc || serializeRunbookFile(doc) !== text) {
    return { eol, cells: [{ markup: false, value: text, meta: { kind: 'raw', trailing: '' } }] };
  }
  const frontLines = doc.frontMatter.match(/[^\n]*\n?/g)!.filter((line) => line !== '');
  const headerBody = fencedValue(doc.headerText);
  const header: CellText = {
    markup: false,
    value: headerBody.value,
    meta: {
      kind: 'header',
      open: frontLines[0]!,
      close: frontLines[frontLines.length - 1]!,
      ...headerBody.fence,
      trailing: '',
    },
  };
  const cells: CellText[] = [header];
  const segments = doc.segments;
  for (let i = 0; i < segments.length; i += 1) {
    const segment = segments[i]!;
    const previous = cells[cells.length - 1]!;
    if (segment.type === 'notes') {
      const { leading, core, trailing } = splitNotes(segment.text);
      previous.meta!.trailing += leading;
      if (core !== '') cells.push({ markup: true, value: core, meta: { kind: 'notes', trailing } });
      continue;
    }
    const { value, fence } = fencedValue(segment.body);
    const parts = { open: segment.open, close: segment.close, ...fence, trailing: '' };
    if (segment.type === 'result') {
      cells.push({ markup: false, value, meta: { kind: 'result', id: segment.for, ...parts } });
      continue;
    }
    // The real run's block, then the dry run's (either may be absent), each after optional blank lines.
    let result: ResultText | undefined;
    let dryRun: ResultText | undefined;
    for (;;) {
      const gap = segments[i + 1];
      const blankGap = gap?.type === 'notes' && gap.text.trim() === '' ? gap.text : undefined;
      const next = segments[blankGap === undefined ? i + 1 : i + 2];
      if (next?.type !== 'result' || next.for !== segment.id || dryRun || (result && !next.dryRun)) break;
      const text = { gap: blankGap ?? '', open: next.open, body: next.body, close: next.close };
      if (next.dryRun) dryRun = text;
      else result = text;
      i += blankGap === undefined ? 1 : 2;
    }
    const meta: CellMeta = {
      kind: segment.kind,
      id: segment.id,
      ...parts,
      ...(result ? { result } : {}),
      ...(dryRun ? { dryRun } : {}),
    };
    cells.push({ markup: false, value, meta });
  }
  return { eol, cells };
}

/** Joins cells back into runbook text; unchanged cells give back exactly the bytes they came from. */
export function cellsToRunbook(
  cells: readonly CellText[],
  eol: Eol = '\n',
): { text: string; lines: CellLines[]; metas: CellMeta[] } {
  const writer = new TextWriter();
  const ids = new Set(cells.flatMap((c) => (c.meta && 'id' in c.meta ? [c.meta.id] : [])));
  const lines: CellLines[] = [];
  /** The metadata each cell was written with: a cell added in the editor gets its kind and id here. */
  const metas: CellMeta[] = [];
  for (const cell of cells) {
    const meta = cell.meta ?? newCellMeta(cell, ids, eol, writer.text === '');
    metas.push(meta);
    if (cell.meta) {
      writer.write(meta.leading ?? '');
    } else {
      // A new cell starts after a blank line; kept in its metadata, so the next save writes it again.
      const at = writer.text.length;
      writer.startBlock(eol, writer.text === '' ? 0 : 1);
      if (writer.text.length > at) meta.leading = writer.text.slice(at);
    }
    if (meta.kind === 'raw') {
      lines.push({ first: writer.line, lines: lineCount(cell.value) });
      writer.write(cell.value + meta.trailing);
      continue;
    }
    if (meta.kind === 'notes') {
      lines.push({ first: writer.line, lines: lineCount(cell.value) });
      writer.write(cell.value + meta.trailing);
      continue;
    }
    // A fence must start a line of its own, whatever the cell before it became.
    writer.startBlock(eol, 0);
    const { open, close } = meta.kind === 'header' ? meta : safeFence(meta.open, meta.close, cell.value, eol);
    const fence = writer.line;
    writer.write(open);
    lines.push({ fence, first: writer.line, lines: lineCount(cell.value) });
    writer.write(fencedBody(cell.value, meta, eol));
    writer.write(close);
    for (const block of 'id' in meta && meta.kind !== 'result' ? [meta.result, meta.dryRun] : []) {
      if (!block) continue;
      writer.startBlock(eol, 0);
      writer.write(block.gap + block.open + block.body + block.close);
    }
    writer.write(meta.trailing);
  }
  return { text: writer.text, lines, metas };
}

/**
 * The cell and the line inside it where a file line falls: the value's line, or for the fence, the
 * closing fence and an embedded result, the nearest line of the value.
 */
export function cellAtLine(
  lines: readonly CellLines[],
  fileLine: number,
): { index: number; line: number } | undefined {
  let found: number | undefined;
  lines.forEach((cell, index) => {
    if ((cell.fence ?? cell.first) <= fileLine) found = index;
  });
  if (found === undefined) return undefined;
  const cell = lines[found]!;
  const line = Math.min(Math.max(fileLine - cell.first, 0), cell.lines - 1);
  return { index: found, line };
}

/** Sets (or replaces) the result block riding with a fenced cell, from the block's exact text. */
export function withResult(meta: CellMeta, block: string, eol: Eol): CellMeta {
  if (!('id' in meta) || meta.kind === 'result') return meta;
  const firstBreak = block.indexOf('\n') + 1;
  const lastLine = block.lastIndexOf('\n', block.length - 2) + 1;
  const result: ResultText = {
    gap: 'result' in meta && meta.result ? meta.result.gap : eol,
    open: block.slice(0, firstBreak),
    body: block.slice(firstBreak, lastLine),
    close: block.slice(lastLine),
  };
  return { ...meta, result };
}

/** The cell kind a new YAML cell is written as: a leading `# KIND` comment, else what its fields say. */
export function inferCellKind(value: string): CellKind {
  const hint = /^#\s*([a-z-]+)\b/.exec(value.trimStart())?.[1];
  if (hint && (CELL_KINDS as readonly string[]).includes(hint)) return hint as CellKind;
  let parsed: unknown;
  try {
    parsed = parse(value);
  } catch {
    return 'job';
  }
  if (Array.isArray(parsed)) return 'checklist';
  if (parsed && typeof parsed === 'object') {
    const fields = parsed as Record<string, unknown>;
    if ('source' in fields || 'action' in fields) return 'job';
    if ('check' in fields) return 'verify';
    if ('errorBudget' in fields) return 'execute';
    if ('job' in fields) return 'dry-run';
  }
  return 'job';
}

// --------------------------------------------------------------------------------------------- helpers

class TextWriter {
  text = '';
  /** 1-based line the next character lands on. */
  line = 1;

  write(text: string): void {
    this.text += text;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.line += 1;
  }

  /** Ends the current line if needed, then makes sure `blankLines` blank lines precede what follows. */
  startBlock(eol: Eol, blankLines: number): void {
    if (this.text !== '' && !this.text.endsWith('\n')) this.write(eol);
    const blanks = /(?:^|\n)((?:[ \t]*\r?\n)*)$/.exec(this.text)?.[1] ?? '';
    const have = this.text === '' ? blankLines : (blanks.match(/\n/g) ?? []).length;
    for (let i = have; i < blankLines; i += 1) this.write(eol);
  }
}

/** A fence body as a cell value (its last line break taken off) and how to put it back. */
function fencedValue(body: string): { value: string; fence: Pick<FenceText, 'bodyEnd' | 'emptyBody'> } {
  const bodyEnd = body.endsWith('\r\n') ? '\r\n' : body.endsWith('\n') ? '\n' : '';
  const value = body.slice(0, body.length - bodyEnd.length);
  return { value, fence: value === '' ? { bodyEnd, emptyBody: body } : { bodyEnd } };
}

function fencedBody(value: string, meta: FenceText, eol: Eol): string {
  if (value === '') return meta.emptyBody ?? '';
  return value + (meta.bodyEnd || eol);
}

/** Blank lines before the prose go to the cell before it; the prose; blank lines after it. */
function splitNotes(text: string): { leading: string; core: string; trailing: string } {
  const leading = /^(?:[ \t]*\r?\n)*/.exec(text)![0];
  const rest = text.slice(leading.length);
  if (rest.trim() === '') return { leading: text, core: '', trailing: '' };
  const lastText = rest.search(/\s*$/);
  const lineBreak = rest.slice(lastText).search(/\r?\n/);
  const end = lineBreak === -1 ? rest.length : lastText + lineBreak;
  return { leading, core: rest.slice(0, end), trailing: rest.slice(end) };
}

function lineCount(value: string): number {
  return value.split('\n').length;
}

const FENCE_LINE = /^( {0,3})(`{3,}|~{3,})(.*?)(\r?\n)?$/;

/**
 * The cell's fence lines, lengthened when the (edited) body holds a line that would close them early.
 */
function safeFence(open: string, close: string, value: string, eol: Eol): { open: string; close: string } {
  const match = FENCE_LINE.exec(open);
  if (!match) return { open, close };
  const marker = match[2]!;
  const closesEarly = value
    .split(/\r?\n/)
    .some((line) => new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`).test(line));
  if (!closesEarly) return { open, close };
  const longest = Math.max(...(value.match(/`+|~+/g) ?? ['']).map((run) => run.length));
  const wider = marker[0]!.repeat(Math.max(longest + 1, marker.length + 1));
  const closeEol = /\r?\n$/.exec(close)?.[0] ?? '';
  return { open: `${match[1]}${wider}${match[3]}${match[4] ?? eol}`, close: `${wider}${closeEol}` };
}

/** Kind, id and fences for a cell added in the editor. */
function newCellMeta(cell: CellText, ids: Set<string>, eol: Eol, first: boolean): CellMeta {
  if (cell.markup) return { kind: 'notes', trailing: eol };
  if (first && /^\s*(title|name|owner):/m.test(cell.value)) {
    return { kind: 'header', open: `---${eol}`, close: `---${eol}`, bodyEnd: eol, trailing: eol };
  }
  const kind = inferCellKind(cell.value);
  let n = 1;
  while (ids.has(`${kind}-${n}`)) n += 1;
  const id = `${kind}-${n}`;
  ids.add(id);
  return {
    kind,
    id,
    open: `\`\`\`${kind} id=${id}${eol}`,
    close: `\`\`\`${eol}`,
    bodyEnd: eol,
    trailing: '',
  };
}
