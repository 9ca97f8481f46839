/**
 * Safe HTML by construction: the `markup` template tag escapes every interpolated value unless it is
 * already {@link SafeHtml} (markup this module built). Record values, reasons and notes are data; none of
 * them can open a tag, close an attribute or start a script in the report.
 */

/** Markup that is already safe to place in a document. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Values a `markup` template accepts; arrays are joined, null, undefined and false render nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

/** Escapes the five characters that are special in HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Tagged template: markup`<td>${value}</td>` escapes `value` unless it is SafeHtml. (Not named `html`, so
 * formatters leave the exact markup — and the whitespace inside `<pre>` — as written.)
 */
export function markup(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}
