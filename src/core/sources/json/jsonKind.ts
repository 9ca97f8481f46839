/** The JSON array file source kind: one record per element. Hashed as the file's raw bytes. */
import { z } from 'zod';
import { sourceCommon } from '../sourceFields';
import { fileSourceParts } from '../sourceFile';
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
  ...fileSourceParts((path, _spec, read) => jsonArraySource(path, read)),
  fieldHelp: { path: 'File, relative to the runbook.' },
};
