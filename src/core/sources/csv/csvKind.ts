/** The CSV file source kind: a header row, then one record per row. Hashed as the file's raw bytes. */
import { z } from 'zod';
import { sourceCommon } from '../sourceFields';
import { fileSourceParts } from '../sourceFile';
import type { SourceKind } from '../sourceKind';
import { csvSource } from './csvSource';

const csvSourceSchema = z.strictObject({
  type: z.literal('csv'),
  path: z.string().min(1),
  delimiter: z.string().length(1).default(','),
  ...sourceCommon,
});

export const csvSourceKind: SourceKind<typeof csvSourceSchema> = {
  type: 'csv',
  schema: csvSourceSchema,
  ...fileSourceParts<z.output<typeof csvSourceSchema>>((path, spec, read) =>
    csvSource(path, spec.delimiter, read),
  ),
  seekable: true,
  fieldHelp: {
    path: 'File, relative to the runbook.',
    delimiter: 'CSV delimiter (default `,`).',
  },
};
