/** The CSV file source kind: a header row, then one record per row. Hashed as the file's raw bytes. */
import { z } from 'zod';
import { sourceCommon } from '../sourceFields';
import { fileContentHash, locateSourceFile } from '../sourceFile';
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
  open: (spec, options) => {
    const file = locateSourceFile(spec.path, options.baseDir);
    const read = { totalBytes: file.size, signal: options.signal, chunkBytes: options.chunkBytes };
    return csvSource(file.path, spec.delimiter, read);
  },
  contentHash: (spec, options) => fileContentHash(spec.path, options),
  describe: (spec) => `${spec.type} ${spec.path}`,
  fieldHelp: {
    path: 'File, relative to the runbook.',
    delimiter: 'CSV delimiter (default `,`).',
  },
};
