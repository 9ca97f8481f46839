/**
 * An RFC 4180 CSV row parser fed one physical line at a time.
 *
 * Why not csv-parse: after a quoting error with `skip_records_with_error` it stays inside the quoted
 * field, so the following good records are swallowed into the rejected one without being reported,
 * and its line counter drifts on CRLF line breaks inside quoted fields. A backfill must report every
 * malformed record at the line where it starts and keep reading at the next one, so this parser
 * resynchronises at line boundaries, which csv-parse cannot do.
 */

/** A parsed CSV row with the line it starts on, or a row that could not be parsed and why. */
export type CsvRow = { line: number; values: string[] } | { line: number; error: string };

/** Beyond this size an open quoted field is taken for a quote that is never closed. */
const DEFAULT_MAX_RECORD_CHARS = 1 << 20;

const QUOTE = '"';

export class CsvRowParser {
  /** Column names, once known, make error messages name the field instead of numbering it. */
  columns: readonly string[] = [];

  private values: string[] = [];
  private field = '';
  private inQuotedField = false;
  private startLine = 0;
  /** The lines of the row being read: replayed if its quote turns out never to be closed. */
  private rowLines: string[] = [];
  private rowChars = 0;

  constructor(
    private readonly delimiter: string,
    private readonly maxRecordChars = DEFAULT_MAX_RECORD_CHARS,
  ) {}

  /** True when no quoted field is open: the next line starts a row. */
  get betweenRows(): boolean {
    return !this.inQuotedField;
  }

  /** Parses one line (without its line break) and returns the rows it completes. */
  pushLine(text: string, line: number): CsvRow[] {
    if (this.inQuotedField) {
      this.field += '\n';
    } else {
      if (text === '') return [];
      this.startRow(line);
    }
    this.rowLines.push(text);
    this.rowChars += text.length + 1;
    const row = this.parseRest(text, line);
    if (row) return [row];
    if (this.rowChars > this.maxRecordChars) {
      return this.rejectUnclosedQuote(`runs past ${this.maxRecordChars} characters`);
    }
    return [];
  }

  /** Call at end of input: a quoted field still open there was never closed. */
  end(): CsvRow[] {
    const rows: CsvRow[] = [];
    while (this.inQuotedField) rows.push(...this.rejectUnclosedQuote('is never closed'));
    return rows;
  }

  private startRow(line: number): void {
    this.values = [];
    this.field = '';
    this.startLine = line;
    // Emptied, not replaced: one array fewer per row (a replay copies what it needs first).
    this.rowLines.length = 0;
    this.rowChars = 0;
  }

  /** Parses `text` from the current state; returns the row if this line ends it. */
  private parseRest(text: string, line: number): CsvRow | undefined {
    let position = 0;
    if (!this.inQuotedField && text[0] === QUOTE) {
      this.inQuotedField = true;
      position = 1;
    }
    for (;;) {
      if (this.inQuotedField) {
        const closing = text.indexOf(QUOTE, position);
        if (closing === -1) {
          this.field += text.slice(position);
          return undefined;
        }
        this.field += text.slice(position, closing);
        const next = text[closing + 1];
        if (next === QUOTE) {
          this.field += QUOTE;
          position = closing + 2;
          continue;
        }
        this.inQuotedField = false;
        if (next === undefined) return this.endRow();
        if (next !== this.delimiter) {
          return this.rejectRow(
            line,
            `a closing quote must be followed by "${this.delimiter}" or the end of the line, got "${next}"`,
          );
        }
        this.values.push(this.field);
        this.field = '';
        position = closing + 2;
      } else {
        const delimiterAt = text.indexOf(this.delimiter, position);
        this.field = text.slice(position, delimiterAt === -1 ? undefined : delimiterAt);
        if (this.field.includes(QUOTE)) {
          return this.rejectRow(
            line,
            'a quote inside an unquoted field (quote the whole field and double inner quotes)',
          );
        }
        if (delimiterAt === -1) return this.endRow();
        this.values.push(this.field);
        this.field = '';
        position = delimiterAt + 1;
      }
      if (text[position] === QUOTE) {
        this.inQuotedField = true;
        position += 1;
      } else if (position === text.length) {
        return this.endRow(); // a trailing delimiter ends with an empty last field
      }
    }
  }

  private endRow(): CsvRow {
    this.values.push(this.field);
    return { line: this.startLine, values: this.values };
  }

  private rejectRow(line: number, problem: string): CsvRow {
    this.inQuotedField = false;
    const where = line === this.startLine ? '' : ` on line ${line}`;
    return { line: this.startLine, error: `broken quoting in ${this.describeField()}${where}: ${problem}` };
  }

  /**
   * Rejects the row whose quoted field never closes, then re-reads its later lines as new rows:
   * a stray quote must not take the rest of the file down with it.
   */
  private rejectUnclosedQuote(problem: string): CsvRow[] {
    const replay = this.rowLines.slice(1);
    const firstReplayedLine = this.startLine + 1;
    const rows: CsvRow[] = [
      {
        line: this.startLine,
        error: `broken quoting in ${this.describeField()}: the quoted field ${problem}; reading resumes on line ${firstReplayedLine}`,
      },
    ];
    this.inQuotedField = false;
    this.startRow(firstReplayedLine);
    replay.forEach((text, index) => rows.push(...this.pushLine(text, firstReplayedLine + index)));
    return rows;
  }

  private describeField(): string {
    const index = this.values.length;
    const name = this.columns[index];
    return name === undefined ? `field ${index + 1}` : `field ${index + 1} ("${name}")`;
  }
}
