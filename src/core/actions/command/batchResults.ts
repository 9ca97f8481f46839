/**
 * Per-record results a batch command prints on stdout, one JSON object per line. This file cannot
 * depend on the vscode API.
 *
 *     {"key": "A-1", "ok": true}
 *     {"key": "A-2", "ok": false, "error": "order is archived"}
 *     {"key": "A-3", "ok": false, "error": "lock timeout", "retryable": true}
 *
 * Any other line (progress, logging) is ignored, so a program can keep printing what it likes.
 */
import { StringDecoder } from 'node:string_decoder';

/** What a batch command said about one record. */
export type ReportedResult =
  { key: string; ok: true } | { key: string; ok: false; error: string; retryable: boolean };

/** A line longer than this cannot be a result line; it is dropped rather than buffered without end. */
const MAX_LINE_LENGTH = 64 * 1024;

/** The error shown when a failure line gives no `error` text. */
const UNEXPLAINED_FAILURE = 'the command reported a failure for this record without saying why';

/** Reads one stdout line; undefined when it is not a result line. */
export function parseResultLine(line: string): ReportedResult | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { key, ok, error, retryable } = value as Record<string, unknown>;
  // A number key is accepted: a program printing a numeric id back as a number means the same record.
  const keyText = typeof key === 'string' ? key : typeof key === 'number' ? String(key) : undefined;
  if (keyText === undefined || typeof ok !== 'boolean') return undefined;
  if (ok) return { key: keyText, ok: true };
  const explanation = typeof error === 'string' && error.trim() !== '' ? error : UNEXPLAINED_FAILURE;
  return { key: keyText, ok: false, error: explanation, retryable: retryable === true };
}

/** Cuts a byte stream into text lines (LF or CRLF), whatever chunk boundaries it arrives with. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private overlong = false;

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer): void {
    this.take(this.decoder.write(chunk));
  }

  /** Flushes the last line when the stream ends without a newline. */
  end(): void {
    this.take(this.decoder.end());
    const last = this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending;
    if (!this.overlong && last !== '') this.onLine(last);
    this.pending = '';
  }

  private take(text: string): void {
    const parts = (this.pending + text).split('\n');
    this.pending = parts.pop() ?? '';
    for (const part of parts) {
      if (!this.overlong) this.onLine(part.endsWith('\r') ? part.slice(0, -1) : part);
      this.overlong = false;
    }
    if (this.pending.length > MAX_LINE_LENGTH) {
      this.pending = '';
      this.overlong = true;
    }
  }
}
