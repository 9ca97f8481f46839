/**
 * CSV record source: the first row names the columns, every later row is one record whose values
 * stay strings (the record validator types them). Streams, so a file of millions of rows is read
 * in constant memory.
 *
 * Hand-written on purpose: csv-parse swallows the records after a quoting error and miscounts lines
 * (the reason is in csvRowParser.ts); every malformed record must be reported at its own line.
 */
import { createReadStream } from 'node:fs';
import type { RecordStream, SourceItem } from '../../model/types';
import { UserError } from '../../model/types';
import { CsvRowParser } from './csvRowParser';
import type { CsvRow } from './csvRowParser';
import {
  hasUndecodableBytes,
  LINE_TOO_LONG_REASON,
  NOT_UTF8_REASON,
  readLines,
  type LineStarts,
} from '../lineReader';
import { MarkFinder } from '../sourceSeek';
import { createLineRecordStream } from '../recordStream';
import { readFileLines, type FileReadOptions } from '../sourceFile';

/**
 * Reads the CSV file at `path` (already resolved and known to exist); from a recorded line start when
 * `options.seek.from` says so (the header is read from the file's start first), reporting the line
 * starts of rows to `options.seek.marks` (sourceSeek.ts).
 */
export function csvSource(path: string, delimiter: string, options: FileReadOptions): RecordStream {
  const from = options.seek?.from;
  return createLineRecordStream(
    (tap) => {
      const parser = new CsvRowParser(delimiter);
      const records = new CsvRecordBuilder(path, parser);
      const finder = new MarkFinder(options.seek?.marks);
      let starts: LineStarts | undefined;
      const pushRows = (rows: CsvRow[], out: SourceItem[]) => {
        for (const row of rows) {
          const item = records.fromRow(row);
          if (item) out.push(item);
        }
      };
      return {
        ...(from ? { open: () => readHeader(path, records, parser, options) } : {}),
        lines: () => {
          // A header too long is refused as soon as it is known, not after reading past it to the file's end.
          const read = readFileLines(path, options, tap, (line) => records.refuseLongHeader(line));
          starts = read.starts;
          return read.lines;
        },
        itemsOf: ({ text, line, tooLong }, out) => {
          if (tooLong) {
            out.push(records.tooLong(line));
            return;
          }
          // A row starts on this line: no quoted field is open, and the header is behind.
          if (finder.due(line) && parser.betweenRows && records.hasHeader) {
            finder.found(line, starts?.startOf(line));
          }
          pushRows(parser.pushLine(text, line), out);
        },
        end: (out) => pushRows(parser.end(), out),
      };
    },
    options.totalBytes,
    from?.byte,
  );
}

/** Reads the file from its start up to the end of its header row, for a reading that starts later. */
async function readHeader(
  path: string,
  records: CsvRecordBuilder,
  parser: CsvRowParser,
  options: FileReadOptions,
): Promise<void> {
  const file = createReadStream(path, { highWaterMark: options.chunkBytes, signal: options.signal });
  try {
    for await (const batch of readLines(file, (line) => records.refuseLongHeader(line))) {
      for (const { text, line, tooLong } of batch) {
        if (tooLong) records.tooLong(line);
        for (const row of tooLong ? [] : parser.pushLine(text, line)) records.fromRow(row);
        if (records.hasHeader) return;
      }
    }
  } finally {
    file.destroy();
  }
  throw new UserError(
    `${path}: the header row was not found where the run recorded it: start over with --restart`,
  );
}

/** Turns parsed rows into source items, taking the first row as the header. */
class CsvRecordBuilder {
  private header: string[] | undefined;

  get hasHeader(): boolean {
    return this.header !== undefined;
  }

  constructor(
    private readonly path: string,
    private readonly parser: CsvRowParser,
  ) {}

  /** A line too long to be a row: a rejected record, or a located refusal when it is the header. */
  tooLong(line: number): SourceItem {
    this.refuseLongHeader(line);
    return { kind: 'rejected', line, reason: LINE_TOO_LONG_REASON };
  }

  /** Throws the located refusal of a header line that is too long; nothing for a later line. */
  refuseLongHeader(line: number): void {
    if (!this.header) throw new UserError(`${this.path}:${line}: the header line: ${LINE_TOO_LONG_REASON}`);
  }

  /** Returns the item for `row`, or nothing for the header row. */
  fromRow(row: CsvRow): SourceItem | undefined {
    if (!this.header) {
      this.header = this.readHeader(row);
      this.parser.columns = this.header;
      return undefined;
    }
    if ('error' in row) return { kind: 'rejected', line: row.line, reason: row.error };
    if (row.values.length !== this.header.length) {
      return {
        kind: 'rejected',
        line: row.line,
        reason: `expected ${this.header.length} fields as in the header, got ${row.values.length}`,
      };
    }
    const { values } = row;
    for (const value of values) {
      if (hasUndecodableBytes(value)) return { kind: 'rejected', line: row.line, reason: NOT_UTF8_REASON };
    }
    return { kind: 'record', line: row.line, fields: fieldsOf(this.header, values) };
  }

  private readHeader(row: CsvRow): string[] {
    if ('error' in row) throw this.headerError(row.line, `the header row is malformed: ${row.error}`);
    // Spaces after the delimiter are common in hand-written headers and never meant as part of a name.
    const names = row.values.map((name) => name.trim());
    const unnamed = names.indexOf('');
    if (unnamed !== -1)
      throw this.headerError(row.line, `the header leaves column ${unnamed + 1} without a name`);
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated !== undefined) {
      throw this.headerError(row.line, `the header names the column "${repeated}" twice`);
    }
    return names;
  }

  private headerError(line: number, message: string): UserError {
    return new UserError(`${this.path}:${line}: ${message}`, [{ file: this.path, line, message }]);
  }
}

/**
 * A row's fields by column name, as own data properties in column order (what Object.fromEntries gave,
 * without an array per field). A column named "__proto__" is defined, not assigned, so it stays data.
 */
function fieldsOf(header: readonly string[], values: readonly string[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i += 1) {
    const name = header[i]!;
    if (name === '__proto__') {
      Object.defineProperty(fields, name, {
        value: values[i],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      fields[name] = values[i];
    }
  }
  return fields;
}
