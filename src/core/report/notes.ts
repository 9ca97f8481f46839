/**
 * The runbook's prose as the report shows it: the notes in document order with a short description of
 * each cell in its place, and the "recommended changes" the authors wrote down for next time.
 */
import type { Cell, Runbook } from '../format/runbook';

export type DocumentPart =
  | { type: 'notes'; markdown: string }
  | { type: 'cell'; kind: Cell['kind']; id: string; summary: string; description?: string };

/** A piece of the notes picked out by its heading (or its lead-in words). */
export interface NotesSection {
  heading: string;
  markdown: string;
}

/** Notes and cells in document order; a cell is described in one line, its YAML stays in the runbook. */
export function documentParts(runbook: Runbook): DocumentPart[] {
  const cells = new Map(runbook.cells.map((cell) => [cell.id, cell]));
  const parts: DocumentPart[] = [];
  for (const segment of runbook.text.segments) {
    if (segment.type === 'notes') {
      if (segment.text.trim() !== '') parts.push({ type: 'notes', markdown: segment.text });
      continue;
    }
    const cell = segment.type === 'cell' ? cells.get(segment.id) : undefined;
    if (!cell) continue;
    const description = 'description' in cell.spec ? cell.spec.description : undefined;
    parts.push({
      type: 'cell',
      kind: cell.kind,
      id: cell.id,
      summary: cellSummary(cell),
      ...(description ? { description } : {}),
    });
  }
  return parts;
}

function cellSummary(cell: Cell): string {
  switch (cell.kind) {
    case 'job': {
      const { source, action, throttle } = cell.spec;
      const from = 'path' in source ? `${source.type} ${source.path}` : source.type;
      const to =
        action.type === 'http'
          ? `${action.method} ${action.url}`
          : action.type === 'command'
            ? `command ${action.argv.join(' ')}`
            : action.type === 'sql'
              ? `SQL ${action.statement.trim()}`
              : action.type === 'amqp'
                ? `publish to exchange "${action.exchange}" routing key ${action.routingKey}`
                : `module ${action.path}`;
      return `records from ${from} (key ${source.key}) → ${to}, at most ${throttle.rate}/s, concurrency ${throttle.concurrency}`;
    }
    case 'checklist':
      return `${cell.spec.length} items, ${cell.spec.filter((item) => item.required).length} required`;
    default:
      return `job ${cell.spec.job}${cell.spec.subset ? `, subset ${JSON.stringify(cell.spec.subset)}` : ''}`;
  }
}

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const RECOMMENDED = /recommended changes?/i;

/**
 * The runbook's recommended changes: the section under a heading that names them, else the list item
 * or paragraph that starts them ("- **Recommended changes:** …"), else the section whose heading
 * mentions documenting. Undefined when the notes have none of these.
 */
export function recommendedChanges(runbook: Runbook): NotesSection | undefined {
  const lines = runbook.text.segments
    .filter((segment) => segment.type === 'notes')
    .map((segment) => segment.text)
    .join('')
    .split(/\r?\n/);
  return (
    sectionUnder(lines, (heading) => RECOMMENDED.test(heading)) ??
    paragraphMentioning(lines, RECOMMENDED) ??
    sectionUnder(lines, (heading) => /document/i.test(heading))
  );
}

function sectionUnder(lines: string[], matches: (heading: string) => boolean): NotesSection | undefined {
  const start = lines.findIndex((line) => {
    const heading = HEADING.exec(line);
    return heading !== null && matches(heading[2]!);
  });
  if (start === -1) return undefined;
  const level = HEADING.exec(lines[start]!)![1]!.length;
  let end = start + 1;
  while (end < lines.length) {
    const heading = HEADING.exec(lines[end]!);
    if (heading && heading[1]!.length <= level) break;
    end += 1;
  }
  const markdown = lines
    .slice(start + 1, end)
    .join('\n')
    .trim();
  return markdown ? { heading: HEADING.exec(lines[start]!)![2]!, markdown } : undefined;
}

/** The list item or paragraph holding `pattern`, with its continuation lines. */
function paragraphMentioning(lines: string[], pattern: RegExp): NotesSection | undefined {
  const start = lines.findIndex((line) => pattern.test(line) && !HEADING.test(line));
  if (start === -1) return undefined;
  let end = start + 1;
  const isItemStart = (line: string) => /^\s*([-*+]|\d+[.)])\s/.test(line);
  while (
    end < lines.length &&
    lines[end]!.trim() !== '' &&
    !isItemStart(lines[end]!) &&
    !HEADING.test(lines[end]!)
  ) {
    end += 1;
  }
  const text = lines.slice(start, end).join('\n').trim();
  return { heading: 'Recommended changes', markdown: text };
}
