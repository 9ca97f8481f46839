/**
 * A small, safe Markdown renderer for the runbook's notes in the HTML report: headings, paragraphs,
 * lists, block quotes, fenced code, rules, and inline code, bold, italics and links. Everything is
 * escaped first; only the markup this renderer adds is HTML. Links keep only http, https and mailto
 * targets, so a note cannot smuggle a `javascript:` URL into the report.
 */
import { escapeHtml, SafeHtml } from './html';

interface Options {
  /** Added to heading levels, so the runbook's `#` sits below the report's own headings. */
  headingShift?: number;
}

/** Renders Markdown to safe HTML. */
export function markdownToHtml(markdown: string, options: Options = {}): SafeHtml {
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  let index = 0;
  while (index < lines.length) index = renderBlock(lines, index, out, options.headingShift ?? 0);
  return new SafeHtml(out.join('\n'));
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})(.*)$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const ORDERED = /^\s*\d+[.)]\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;

/** Renders the block starting at `index`; returns the index after it. */
function renderBlock(lines: string[], index: number, out: string[], shift: number): number {
  const line = lines[index]!;
  if (line.trim() === '') return index + 1;
  const fence = FENCE.exec(line);
  if (fence) return renderFence(lines, index, fence[1]!, out);
  const heading = HEADING.exec(line);
  if (heading) {
    const level = Math.min(6, heading[1]!.length + shift);
    out.push(`<h${level}>${inline(heading[2]!)}</h${level}>`);
    return index + 1;
  }
  if (RULE.test(line)) {
    out.push('<hr>');
    return index + 1;
  }
  if (BULLET.test(line) || ORDERED.test(line)) return renderList(lines, index, out);
  if (QUOTE.test(line)) return renderQuote(lines, index, out, shift);
  return renderParagraph(lines, index, out);
}

function renderFence(lines: string[], index: number, marker: string, out: string[]): number {
  let end = index + 1;
  while (end < lines.length && !lines[end]!.trim().startsWith(marker)) end += 1;
  out.push(`<pre><code>${escapeHtml(lines.slice(index + 1, end).join('\n'))}</code></pre>`);
  return end + 1;
}

function renderList(lines: string[], index: number, out: string[]): number {
  const ordered = ORDERED.test(lines[index]!) && !BULLET.test(lines[index]!);
  const items: string[] = [];
  let end = index;
  while (end < lines.length) {
    const item = (ordered ? ORDERED : BULLET).exec(lines[end]!);
    if (item) {
      items.push(item[1]!);
    } else if (lines[end]!.trim() !== '' && /^\s+/.test(lines[end]!) && items.length > 0) {
      items[items.length - 1] += ` ${lines[end]!.trim()}`; // a continuation line of the item
    } else {
      break;
    }
    end += 1;
  }
  const tag = ordered ? 'ol' : 'ul';
  out.push(`<${tag}>${items.map((item) => `<li>${inline(item)}</li>`).join('')}</${tag}>`);
  return end;
}

function renderQuote(lines: string[], index: number, out: string[], shift: number): number {
  let end = index;
  const quoted: string[] = [];
  while (end < lines.length && QUOTE.test(lines[end]!)) quoted.push(QUOTE.exec(lines[end++]!)![1]!);
  out.push(`<blockquote>${markdownToHtml(quoted.join('\n'), { headingShift: shift }).value}</blockquote>`);
  return end;
}

function renderParagraph(lines: string[], index: number, out: string[]): number {
  let end = index;
  const text: string[] = [];
  while (end < lines.length && startsNothingElse(lines[end]!)) text.push(lines[end++]!.trim());
  out.push(`<p>${inline(text.join(' '))}</p>`);
  return end;
}

function startsNothingElse(line: string): boolean {
  if (line.trim() === '') return false;
  return ![FENCE, HEADING, BULLET, ORDERED, QUOTE, RULE].some((pattern) => pattern.test(line));
}

/** Inline Markdown on escaped text; code spans are cut out first so nothing inside them is formatted. */
export function inline(text: string): string {
  return text
    .split(/(`[^`]+`)/)
    .map((part, index) =>
      index % 2 === 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : formatted(escapeHtml(part)),
    )
    .join('');
}

function formatted(escaped: string): string {
  return escaped
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_match, label: string, href: string) =>
      /^(https?:|mailto:)/i.test(href) ? `<a href="${href}">${label}</a>` : label,
    )
    .replace(/\*\*([^*]+)\*\*|__([^_]+)__/g, (_match, a?: string, b?: string) => `<strong>${a ?? b}</strong>`)
    .replace(/(^|[^*\w])\*([^*\s][^*]*)\*(?!\w)/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_([^_\s][^_]*)_(?!\w)/g, '$1<em>$2</em>');
}
