/** The JSON array file source kind: one record per element. Hashed as the file's raw bytes. */
import { z } from 'zod';
import { sourceCommon } from '../sourceFields';
import { fileContentHash, locateSourceFile } from '../sourceFile';
import type { SourceKind } from '../sourceKind';
import { jsonArraySource } from './jsonArraySource';

const jsonSourceSchema = z.strictObject({
  type: z.literal('json'),
  path: z.string().min(1),
  ...sourceCommon,
});

export const jsonSourceKind: SourceKind<typeof jsonSourceSchema> = {
  type: 'json',
  schema: jsonSourceSchema,
  open: (spec, options) => {
    const file = locateSourceFile(spec.path, options.baseDir);
    return jsonArraySource(file.path, {
      totalBytes: file.size,
      signal: options.signal,
      chunkBytes: options.chunkBytes,
    });
  },
  contentHash: (spec, options) => fileContentHash(spec.path, options),
  describe: (spec) => `${spec.type} ${spec.path}`,
  fieldHelp: { path: 'File, relative to the runbook.' },
};
