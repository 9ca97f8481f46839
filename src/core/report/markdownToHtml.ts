/**
 * The runbook's notes as HTML for the report, rendered by markdown-it (CommonMark) with raw HTML off, so
 * HTML written in the notes is shown as text, never passed through. Links keep only http, https and
 * mailto targets, so a note cannot smuggle a `javascript:` URL into the report; images are not rendered,
 * so opening a report fetches nothing.
 */
import MarkdownIt from 'markdown-it';
import { SafeHtml } from './html';

interface Options {
  /** Added to heading levels, so the runbook's `#` sits below the report's own headings. */
  headingShift?: number;
}

interface RenderEnv {
  headingShift: number;
}

const SAFE_LINK = /^(https?:|mailto:)/i;

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false }).disable('image');
markdown.validateLink = (url) => SAFE_LINK.test(url.trim());
markdown.core.ruler.push('heading_shift', (state) => {
  const shift = (state.env as RenderEnv).headingShift;
  for (const token of state.tokens) {
    if (token.type !== 'heading_open' && token.type !== 'heading_close') continue;
    token.tag = `h${Math.min(6, Number(token.tag.slice(1)) + shift)}`;
  }
});

/** Renders Markdown to safe HTML. */
export function markdownToHtml(text: string, options: Options = {}): SafeHtml {
  const env: RenderEnv = { headingShift: options.headingShift ?? 0 };
  return new SafeHtml(markdown.render(text, env).trimEnd());
}
