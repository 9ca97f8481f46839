/**
 * What a dry run would send for one record, as text an operator can read and compare with the target's
 * API docs: an HTTP request as on the wire, a command line as a shell would quote it, a module call and
 * what its `dryRun` export said. Pure: no DOM, unit-tested.
 */
import type { ActionPreview } from '../../src/core/actions/preview';
import { revealInvisible } from './format';

export function requestText(send: ActionPreview): string {
  switch (send.type) {
    case 'http':
      return revealInvisible(httpText(send.method, send.url, send.headers, send.body));
    case 'command':
      return revealInvisible(commandText(send.argv, send.env, send.stdin, send.mode));
    case 'module':
      return revealInvisible(moduleText(send.path, send.export, send.dryRun));
    default:
      return revealInvisible(JSON.stringify(send, null, 2));
  }
}

function httpText(method: string, url: string, headers: Record<string, string>, body?: string): string {
  const lines = [
    `${method} ${url}`,
    ...Object.entries(headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  // The body exactly as serialized for sending: pretty-printing it would show bytes that are not sent.
  return body === undefined ? lines.join('\n') : `${lines.join('\n')}\n\n${body}`;
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
