/**
 * Splits a JSON array, fed in chunks, into the texts of its top-level elements, each with the line it
 * starts on. It only tracks strings, escapes and bracket depth; each element is then parsed on its own,
 * so one malformed element is rejected while the others are still read, and memory holds one element
 * at a time instead of the whole file. An element longer than {@link MAX_ELEMENT_CHARS} is read past
 * without being held (a 2 GB file of NUL bytes would not fit in one string) and becomes a problem.
 *
 * Why it stays hand-written: streaming JSON libraries (stream-json, @streamparser/json) stop at the first
 * malformed element and report no source line, while a backfill must reject that one element and go on.
 */

import { MAX_LINE_CHARS } from '../lineReader';

/** Longest element a JSON source reads: the same 16 MiB of characters as a line of the line sources. */
export const MAX_ELEMENT_CHARS = MAX_LINE_CHARS;

/** The reason given for an element longer than {@link MAX_ELEMENT_CHARS}. */
export const ELEMENT_TOO_LONG_REASON =
  'the element is longer than 16 MiB (16,777,216 characters): not a record (is the file binary, or not JSON?)';

/** A top-level element's text, a problem located at a line, or a file that is no array at all. */
export type ArrayPiece =
  | { kind: 'element'; line: number; text: string }
  | { kind: 'problem'; line: number; message: string }
  | { kind: 'notAnArray'; line: number; message: string };

type Phase = 'beforeArray' | 'inArray' | 'afterArray' | 'finished';

export class JsonArrayScanner {
  private phase: Phase = 'beforeArray';
  private line = 1;
  /** Bracket depth, counting the top-level array as 1. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The current element's text from earlier chunks; undefined between elements. */
  private element: string | undefined;
  /** The current element is longer than {@link MAX_ELEMENT_CHARS}: its text is dropped until it ends. */
  private oversized = false;
  private elementLine = 0;
  /** After a comma an element must follow; another comma or `]` means an empty element. */
  private expectingElement = false;

  /** Scans the next chunk of text; returns the pieces it completes. */
  push(chunk: string): ArrayPiece[] {
    const pieces: ArrayPiece[] = [];
    let elementFrom = this.element === undefined ? -1 : 0;
    for (let i = 0; i < chunk.length && this.phase !== 'finished'; i++) {
      const char = chunk[i] as string;
      if (this.inString) {
        this.scanStringChar(char);
      } else if (this.phase === 'inArray') {
        if (elementFrom === -1 && !isWhitespace(char) && char !== ',' && char !== ']') {
          elementFrom = i;
          this.element = '';
          this.elementLine = this.line;
          this.expectingElement = false;
        }
        if (this.endsElement(char)) {
          if (elementFrom !== -1) {
            pieces.push(this.takeElement(chunk.slice(elementFrom, i)));
            elementFrom = -1;
          } else if (this.expectingElement || char === ',') {
            pieces.push({
              kind: 'problem',
              line: this.line,
              message: 'empty array element (a stray comma?)',
            });
          }
          this.expectingElement = char === ',';
          if (char === ']') this.phase = 'afterArray';
        } else {
          this.trackNesting(char);
        }
      } else if (this.phase === 'beforeArray' && char === '[') {
        this.phase = 'inArray';
        this.depth = 1;
      } else if (!isWhitespace(char)) {
        pieces.push(this.unexpectedOutsideArray(char));
      }
      if (char === '\n') this.line++;
    }
    if (elementFrom !== -1) this.keepElementPart(chunk.slice(elementFrom));
    return pieces;
  }

  /** Call at end of input: reports an array or element the file ends inside of. */
  end(): ArrayPiece[] {
    switch (this.phase) {
      case 'beforeArray':
        return [
          {
            kind: 'notAnArray',
            line: this.line,
            message: 'the file is empty; expected a JSON array of records',
          },
        ];
      case 'inArray':
        return [
          this.element === undefined
            ? {
                kind: 'problem',
                line: this.line,
                message: 'the file ends before the array is closed (truncated file?)',
              }
            : {
                kind: 'problem',
                line: this.elementLine,
                message: this.oversized
                  ? `${ELEMENT_TOO_LONG_REASON}; the file ends inside it`
                  : 'the file ends inside this element; its brackets or quotes never close (truncated file?)',
              },
        ];
      default:
        return [];
    }
  }

  private scanStringChar(char: string): void {
    if (this.escaped) this.escaped = false;
    else if (char === '\\') this.escaped = true;
    else if (char === '"') this.inString = false;
  }

  /** A comma or `]` at the array's own depth ends the current element. */
  private endsElement(char: string): boolean {
    return this.depth === 1 && (char === ',' || char === ']');
  }

  private trackNesting(char: string): void {
    if (char === '"') this.inString = true;
    else if (char === '{' || char === '[') this.depth++;
    // A stray closer at the array's depth stays in the element's text, where JSON.parse rejects it.
    else if ((char === '}' || char === ']') && this.depth > 1) this.depth--;
  }

  /** Holds the part of the current element a chunk ends in, unless the element is already too long. */
  private keepElementPart(part: string): void {
    if (!this.oversized && (this.element as string).length + part.length <= MAX_ELEMENT_CHARS) {
      this.element += part;
    } else {
      this.oversized = true;
      this.element = '';
    }
  }

  private takeElement(lastPart: string): ArrayPiece {
    const tooLong = this.oversized || (this.element as string).length + lastPart.length > MAX_ELEMENT_CHARS;
    const text = tooLong ? '' : this.element + lastPart;
    this.element = undefined;
    this.oversized = false;
    return tooLong
      ? { kind: 'problem', line: this.elementLine, message: ELEMENT_TOO_LONG_REASON }
      : { kind: 'element', line: this.elementLine, text };
  }

  /** Reports content before or after the top-level array, and stops scanning. */
  private unexpectedOutsideArray(char: string): ArrayPiece {
    const phase = this.phase;
    this.phase = 'finished';
    if (phase === 'afterArray') {
      return { kind: 'problem', line: this.line, message: 'unexpected content after the end of the array' };
    }
    const hint = char === '{' ? ' (for one record per line use the "jsonl" source type)' : '';
    return {
      kind: 'notAnArray',
      line: this.line,
      message: `expected a JSON array of records, found "${char}"${hint}`,
    };
  }
}

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\n' || char === '\r' || char === '\t';
}
