/**
 * What a dry run would send for one record, as text an operator can read and compare with the target's
 * API docs: an HTTP request as on the wire, a command line as a shell would quote it, a module call and
 * what its `dryRun` export said, a SQL statement with its bound values, a queue message with its routing
 * key (the SQL and queue kinds' own lines, the ones the CLI prints). Pure: no DOM, unit-tested.
 */
import type { ActionPreview } from '../../src/core/actions/preview';
import { amqpPreviewLines } from '../../src/core/actions/amqp/amqpPreview';
import { sqlPreviewLines } from '../../src/core/actions/sql/sqlPreview';
import { revealInvisible } from './format';

export function requestText(send: ActionPreview): string {
  switch (send.type) {
    case 'http':
      return revealInvisible(httpText(send.method, send.url, send.headers, send.body));
    case 'command':
      return revealInvisible(commandText(send.argv, send.env, send.stdin, send.mode));
    case 'module':
      return revealInvisible(moduleText(send.path, send.export, send.dryRun));
    case 'sql':
      return revealInvisible(sqlPreviewLines(send).join('\n'));
    case 'amqp':
      return revealInvisible(amqpPreviewLines(send).join('\n'));
    default:
      return revealInvisible(JSON.stringify(send, null, 2));
  }
}

function httpText(method: string, url: string, headers: Record<string, string>, body?: string): string {
  const lines = [
    `${method} ${url}`,
    ...Object.entries(headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  if (body === undefined) return lines.join('\n');
  // A JSON object or list is easier to check indented; the note says it is sent as it was serialized.
  const pretty = prettyJson(body);
  return pretty === undefined
    ? `${lines.join('\n')}\n\n${body}`
    : `${lines.join('\n')}\n\n${pretty}\n(pretty-printed here; sent compact, ${byteLength(body)} bytes)`;
}

/** A JSON object or array body, indented; undefined for any other body (sent and shown as is). */
export function prettyJson(body: string): string | undefined {
  if (!/^\s*[[{]/.test(body)) return undefined;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return undefined;
  }
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

function commandText(argv: string[], env: Record<string, string>, stdin: string, mode: string): string {
  const lines = Object.entries(env ?? {}).map(([name, value]) => `${name}=${shellQuote(value)}`);
  lines.push(`$ ${(argv ?? []).map(shellQuote).join(' ')}`);
  if (stdin) lines.push(`stdin${mode === 'batch' ? ' (batch)' : ''}: ${stdin}`);
  return lines.join('\n');
}

function moduleText(modulePath: string, exportName: string, dryRun: unknown): string {
  const call = `${modulePath} → ${exportName}(record, context)`;
  if (dryRun === undefined) return `${call}\n(the module has no dryRun export: nothing more to show)`;
  const said = typeof dryRun === 'string' ? dryRun : JSON.stringify(dryRun, null, 2);
  return `${call}\ndryRun returned:\n${said}`;
}

/**
 * POSIX shell quoting: a word is shown bare only when no shell would read it differently, otherwise in
 * single quotes. The runner never uses a shell; this only makes argument boundaries unambiguous.
 */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
