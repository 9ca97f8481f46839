/**
 * `:name` placeholders in SQL, turned into PostgreSQL's `$1, $2, …` so values are always bound as
 * parameters and never spliced into the text. This file cannot depend on the vscode API.
 *
 * The scanner skips what is not code — string literals (`'…'`, `E'…'`), quoted identifiers (`"…"`),
 * dollar-quoted bodies (`$tag$…$tag$`), comments (`--`, nested block comments) — and casts (`::type`), so a
 * colon inside any of them stays as written.
 */

/** A statement whose `:name` placeholders became `$n`; `names[n-1]` is the name bound to `$n`. */
export interface NamedSql {
  text: string;
  names: string[];
}

/** A problem in the SQL text found before the database sees it, with its 1-based column. */
export interface NamedSqlError {
  message: string;
  column: number;
}

const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;

/** Rewrites `:name` placeholders; a `$1`-style placeholder is refused (its value would have no name). */
export function compileNamedSql(sql: string): { ok: true; sql: NamedSql } | ({ ok: false } & NamedSqlError) {
  const names: string[] = [];
  let text = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    const skipped = skipNonCode(sql, i);
    if (skipped > i) {
      text += sql.slice(i, skipped);
      i = skipped;
      continue;
    }
    if (ch === ':' && next === ':') {
      text += '::';
      i += 2;
      continue;
    }
    if (ch === ':' && next !== undefined && NAME_START.test(next)) {
      let end = i + 1;
      while (end < sql.length && NAME_PART.test(sql[end]!)) end += 1;
      const name = sql.slice(i + 1, end);
      let index = names.indexOf(name);
      if (index < 0) index = names.push(name) - 1;
      text += `$${index + 1}`;
      i = end;
      continue;
    }
    if (ch === ';') {
      // Only whitespace and comments may follow: a second statement would run too wherever the text
      // goes through the simple protocol, so a "read-only" dry run could change the database.
      if (!onlyCommentsFrom(sql, i + 1)) {
        return {
          ok: false,
          column: i + 1,
          message: 'a second statement follows the ";": write exactly one statement',
        };
      }
      break;
    }
    if (ch === '$' && next !== undefined && /[0-9]/.test(next)) {
      return {
        ok: false,
        column: i + 1,
        message: `positional parameter "$${next}…": name it instead (:id), so each value says which field it is`,
      };
    }
    text += ch;
    i += 1;
  }
  return { ok: true, sql: { text, names } };
}

/** Whether only whitespace and comments are left from `i` on. */
function onlyCommentsFrom(sql: string, i: number): boolean {
  let j = i;
  while (j < sql.length) {
    if (/\s/.test(sql[j]!)) j += 1;
    else if (sql.startsWith('--', j) || sql.startsWith('/*', j)) j = skipNonCode(sql, j);
    else return false;
  }
  return true;
}

/** The first word of the statement (after comments), upper-cased: `CALL`, `UPDATE`, … */
export function firstKeyword(sql: string): string {
  let j = 0;
  while (j < sql.length && (/\s/.test(sql[j]!) || sql.startsWith('--', j) || sql.startsWith('/*', j))) {
    j = /\s/.test(sql[j]!) ? j + 1 : skipNonCode(sql, j);
  }
  return (/^[A-Za-z]+/.exec(sql.slice(j))?.[0] ?? '').toUpperCase();
}

/** The index just past a literal, quoted identifier, dollar-quoted body or comment starting at `i`; else `i`. */
function skipNonCode(sql: string, i: number): number {
  const ch = sql[i]!;
  const next = sql[i + 1];
  if (ch === "'") return skipQuoted(sql, i, "'", /[eE]/.test(sql[i - 1] ?? ''));
  if (ch === '"') return skipQuoted(sql, i, '"', false);
  if (ch === '-' && next === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end;
  }
  if (ch === '/' && next === '*') {
    let depth = 0;
    let j = i;
    while (j < sql.length) {
      if (sql.startsWith('/*', j)) {
        depth += 1;
        j += 2;
      } else if (sql.startsWith('*/', j)) {
        depth -= 1;
        j += 2;
        if (depth === 0) return j;
      } else j += 1;
    }
    return sql.length;
  }
  if (ch === '$') {
    const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
    if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end < 0 ? sql.length : end + tag[0].length;
    }
  }
  return i;
}

function skipQuoted(sql: string, i: number, quote: string, backslashEscapes: boolean): number {
  let j = i + 1;
  while (j < sql.length) {
    if (backslashEscapes && sql[j] === '\\') j += 2;
    else if (sql[j] === quote && sql[j + 1] === quote) j += 2;
    else if (sql[j] === quote) return j + 1;
    else j += 1;
  }
  return sql.length;
}

/**
 * The positional values for a compiled statement, from `values` by name; the names it lacks are listed
 * instead (the record is then refused with them).
 */
export function bindNamed(
  sql: NamedSql,
  values: (name: string) => { found: true; value: unknown } | { found: false },
): { ok: true; values: unknown[] } | { ok: false; missing: string[] } {
  const bound: unknown[] = [];
  const missing: string[] = [];
  for (const name of sql.names) {
    const lookup = values(name);
    if (lookup.found) bound.push(lookup.value);
    else missing.push(name);
  }
  return missing.length > 0 ? { ok: false, missing } : { ok: true, values: bound };
}
