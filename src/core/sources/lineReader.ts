/**
 * Splits a byte stream into numbered text lines without holding more than one chunk (plus one
 * unfinished line) in memory. Shared by the CSV, JSON Lines and command sources.
 *
 * Why not node:readline: it costs one event (or one `await`) per line, which on million-line files costs
 * more than the splitting, while this reader yields one batch of numbered lines per chunk.
 */
import { StringDecoder } from 'node:string_decoder';

/** One physical line of text, without its line break; `line` is 1-based. */
export interface TextLine {
  text: string;
  line: number;
  /** Longer than {@link MAX_LINE_CHARS}: `text` is empty, the line was read past and dropped. */
  tooLong?: true;
}

/**
 * Longest line a source reads: 16 MiB of characters. A longer one (a 2 GB file of NUL bytes and no line
 * break, a binary file named .csv) cannot be a record and would not fit in one string: it is read past,
 * never held, and becomes a rejected record with its line.
 */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

/** The reason a source gives for a line longer than {@link MAX_LINE_CHARS}. */
export const LINE_TOO_LONG_REASON =
  'the line is longer than 16 MiB (16,777,216 characters): not a record (is the file binary, or missing line breaks?)';

const BYTE_ORDER_MARK = '\uFEFF';

/** Where a reading starts in a file: a line's number and the byte offset of its first byte. */
export interface LineStart {
  line: number;
  byte: number;
}

/**
 * The byte offsets of the lines {@link readLines} just yielded, for a reader that records where a line
 * begins (to open the file there later: sources/sourceMarks.ts). Valid for the lines of the latest
 * batch, until the next one is read.
 *
 * Why from the raw bytes and not the decoded text: a newline byte (0x0A) never occurs inside a UTF-8
 * sequence, so the n-th line break of the text is the n-th 0x0A of the bytes, even where bytes that are
 * not UTF-8 were decoded to U+FFFD (which has another length); and a byte order mark is counted.
 */
export class LineStarts {
  /** The raw chunk the latest batch's lines after its first begin in, and its offset in the file. */
  private chunk: Buffer | undefined;
  private chunkStart = 0;
  /** The first line of the latest batch, which may have begun in an earlier chunk, and its offset. */
  private firstLine = 0;
  private firstStart = 0;
  /**
   * The latest line found after the batch's first, and the index in `chunk` of the break before it: a
   * reader asking for line after line (a shared run cut at row starts) scans each break once.
   */
  private foundLine = 0;
  private foundBreak = -1;

  /** The byte offset of `line`'s first byte, when `line` is in the latest batch. */
  startOf(line: number): number | undefined {
    if (line === this.firstLine) return this.firstStart;
    if (line <= this.firstLine || !this.chunk) return undefined;
    const resume = this.foundLine > this.firstLine && this.foundLine <= line;
    let breaks = line - (resume ? this.foundLine : this.firstLine);
    let at = resume ? this.foundBreak : -1;
    while (breaks-- > 0) {
      at = this.chunk.indexOf(NEWLINE_BYTE, at + 1);
      if (at === -1) return undefined;
    }
    this.foundLine = line;
    this.foundBreak = at;
    return this.chunkStart + at + 1;
  }

  /** @internal The latest batch begins at `firstLine` (offset `firstStart`); later lines in `chunk`. */
  batch(firstLine: number, firstStart: number, chunk: Buffer | undefined, chunkStart: number): void {
    this.firstLine = firstLine;
    this.firstStart = firstStart;
    this.chunk = chunk;
    this.chunkStart = chunkStart;
    this.foundLine = 0;
  }
}

const NEWLINE_BYTE = 0x0a;

export interface ReadLinesOptions {
  /**
   * Reading starts at this line, `chunks` being the file from its byte (no byte order mark is looked
   * for there): a reading resumed from a recorded line start.
   */
  start?: LineStart;
  /** Kept up to date with the byte offsets of each batch's lines. */
  starts?: LineStarts;
}

/**
 * Yields the lines of `chunks` in batches (one batch per chunk), because one `await` per line
 * costs more than the splitting itself on million-line files.
 *
 * Accepts `\n` and `\r\n` line breaks. A last line without a line break is still yielded; an empty
 * input yields no lines. A line longer than {@link MAX_LINE_CHARS} is yielded as `tooLong`, without its
 * text, and memory stays bounded however long it is.
 */
export async function* readLines(
  chunks: AsyncIterable<Buffer>,
  /**
   * Called as soon as a line is known to be too long, before it is read past (which may take the rest of
   * a huge file): a reader that refuses such a line (a CSV header) throws here and stops reading.
   */
  onTooLong?: (line: number) => void,
  options: ReadLinesOptions = {},
): AsyncGenerator<TextLine[]> {
  let partial = '';
  /** The unfinished line is already too long: its text is being dropped until its line break. */
  let overlong = false;
  let lineNumber = (options.start?.line ?? 1) - 1;
  const starts = options.starts;
  /** Offset of the next chunk's first byte, and of the unfinished line's first byte. */
  let position = options.start?.byte ?? 0;
  let partialStart = position;
  const tooLong = (): TextLine => ({ text: '', line: ++lineNumber, tooLong: true });
  const decoder = utf8Decoder(position === 0);
  for await (const chunk of chunks) {
    const chunkStart = position;
    position += chunk.length;
    const text = decoder.write(chunk);
    // Split only the new text, so a very long line costs one concatenation per chunk, not a re-scan.
    const pieces = text.split('\n');
    const rest = pieces.pop() ?? '';
    if (pieces.length > 0) {
      starts?.batch(lineNumber + 1, partialStart, chunk, chunkStart);
      partialStart = chunkStart + chunk.lastIndexOf(NEWLINE_BYTE) + 1;
      const firstTooLong = overlong || partial.length + pieces[0]!.length > MAX_LINE_CHARS;
      pieces[0] = firstTooLong ? '' : partial + pieces[0];
      partial = '';
      overlong = false;
      yield pieces.map((piece, index) =>
        (index === 0 && firstTooLong) || piece.length > MAX_LINE_CHARS
          ? tooLong()
          : { text: withoutCarriageReturn(piece), line: ++lineNumber },
      );
    }
    if (overlong || partial.length + rest.length > MAX_LINE_CHARS) {
      if (!overlong) onTooLong?.(lineNumber + 1);
      overlong = true;
      partial = '';
    } else {
      partial += rest;
    }
  }
  partial += decoder.end();
  starts?.batch(lineNumber + 1, partialStart, undefined, position);
  if (overlong) yield [tooLong()];
  else if (partial.length > 0) yield [{ text: withoutCarriageReturn(partial), line: ++lineNumber }];
}

/** Decodes UTF-8 chunks to text, dropping a byte order mark at the start. */
export async function* decodeUtf8(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = utf8Decoder(true);
  for await (const chunk of chunks) {
    const text = decoder.write(chunk);
    if (text.length > 0) yield text;
  }
  const rest = decoder.end();
  if (rest.length > 0) yield rest;
}

/** A UTF-8 decoder of successive chunks that drops a byte order mark at the start when `atStart`. */
function utf8Decoder(atStart: boolean): { write(chunk: Buffer): string; end(): string } {
  // StringDecoder keeps a multi-byte character that is split across two chunks intact.
  const decoder = new StringDecoder('utf8');
  let looking = atStart;
  return {
    write(chunk) {
      let text = decoder.write(chunk);
      if (looking && text.length > 0) {
        if (text.startsWith(BYTE_ORDER_MARK)) text = text.slice(1);
        looking = false;
      }
      return text;
    },
    end: () => decoder.end(),
  };
}

/**
 * The decoder turns bytes that are not UTF-8 into U+FFFD. A record holding one would send mangled
 * values to production, so sources reject it instead (a genuine U+FFFD is almost always earlier
 * damage of the same kind).
 */
export const NOT_UTF8_REASON = 'not valid UTF-8 (or contains U+FFFD): convert the source file to UTF-8';

/** True when `text` holds the character the decoder puts in place of bytes that are not UTF-8. */
export function hasUndecodableBytes(text: string): boolean {
  return text.includes('\uFFFD');
}

function withoutCarriageReturn(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}
