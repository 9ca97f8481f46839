/** JSON Lines record source: one JSON object per line; blank lines are skipped. */
import type { RecordStream, SourceItem } from '../model/types';
import { jsonTextToItem } from './jsonRecord';
import type { LineStarts, TextLine } from './lineReader';
import { LINE_TOO_LONG_REASON } from './lineReader';
import { MarkFinder } from './sourceSeek';
import { createLineRecordStream } from './recordStream';
import { fileSourceParts, readFileLines, type FileReadOptions } from './sourceFile';
import { z } from 'zod';
import { sourceCommon } from './sourceFields';
import type { SourceKind } from './sourceKind';

/**
 * Reads the JSON Lines file at `path` (already resolved and known to exist); from a recorded line start
 * when `options.seek.from` says so, reporting line starts to `options.seek.marks` (sourceSeek.ts).
 */
export function jsonlSource(path: string, options: FileReadOptions): RecordStream {
  const from = options.seek?.from;
  return createLineRecordStream(
    (tap) => {
      const finder = new MarkFinder(options.seek?.marks);
      let starts: LineStarts | undefined;
      return {
        lines: () => {
          const read = readFileLines(path, options, tap);
          starts = read.starts;
          return read.lines;
        },
        // Every line of JSON Lines can be read from: a line past a boundary is its mark, reported before
        // the line's item is handed out, so a reader cutting the source where it stands
        // (fleet/chunkRanges.ts) sees the start of the line it is about to read.
        itemsOf: (line, out) => {
          if (starts && finder.due(line.line)) finder.found(line.line, starts.startOf(line.line));
          const item = jsonLineItem(line);
          if (item) out.push(item);
        },
        end: () => undefined,
      };
    },
    options.totalBytes,
    from?.byte,
  );
}

/** Parses batches of lines as JSON Lines; also reads a command's standard output. */
export async function* jsonLinesToItems(batches: AsyncIterable<TextLine[]>): AsyncGenerator<SourceItem> {
  for await (const lines of batches) {
    for (const line of lines) {
      const item = jsonLineItem(line);
      if (item) yield item;
    }
  }
}

/** The item of one line of JSON Lines; none for a blank line. */
function jsonLineItem({ text, line, tooLong }: TextLine): SourceItem | undefined {
  if (tooLong) return { kind: 'rejected', line, reason: LINE_TOO_LONG_REASON };
  return text.trim() === '' ? undefined : jsonTextToItem(text, line);
}

const jsonlSourceSchema = z.strictObject({
  type: z.literal('jsonl'),
  path: z.string().min(1),
  ...sourceCommon,
});

/** The JSON Lines file source kind, hashed as the file's raw bytes. */
export const jsonlSourceKind: SourceKind<typeof jsonlSourceSchema> = {
  type: 'jsonl',
  schema: jsonlSourceSchema,
  ...fileSourceParts((path, _spec, read) => jsonlSource(path, read)),
  seekable: true,
  fieldHelp: { path: 'File, relative to the runbook.' },
};
