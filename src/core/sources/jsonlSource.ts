/** JSON Lines record source: one JSON object per line; blank lines are skipped. */
import { createReadStream } from 'node:fs';
import type { RecordStream, SourceItem } from '../model/types';
import { jsonTextToItem } from './jsonRecord';
import type { TextLine } from './lineReader';
import { LINE_TOO_LONG_REASON, readLines } from './lineReader';
import { createRecordStream, tapChunks } from './recordStream';
import type { FileReadOptions } from './sourceFile';
import { z } from 'zod';
import { sourceCommon } from './sourceFields';
import { fileSourceParts } from './sourceFile';
import type { SourceKind } from './sourceKind';

/** Reads the JSON Lines file at `path` (already resolved and known to exist). */
export function jsonlSource(path: string, options: FileReadOptions): RecordStream {
  return createRecordStream(async function* (tap) {
    const file = createReadStream(path, { highWaterMark: options.chunkBytes, signal: options.signal });
    yield* jsonLinesToItems(readLines(tapChunks(file, tap)));
  }, options.totalBytes);
}

/** Parses batches of lines as JSON Lines; also reads a command's standard output. */
export async function* jsonLinesToItems(batches: AsyncIterable<TextLine[]>): AsyncGenerator<SourceItem> {
  for await (const lines of batches) {
    for (const { text, line, tooLong } of lines) {
      if (tooLong) yield { kind: 'rejected', line, reason: LINE_TOO_LONG_REASON };
      else if (text.trim() !== '') yield jsonTextToItem(text, line);
    }
  }
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
  fieldHelp: { path: 'File, relative to the runbook.' },
};
