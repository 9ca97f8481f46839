/** The fields of a module action. This file cannot depend on the vscode API. */
import { z } from 'zod';

export const moduleActionSchema = z.strictObject({
  type: z.literal('module'),
  /** A JS or TS file, relative to the runbook, exporting the handler (and optionally `dryRun`). */
  path: z.string().min(1),
  export: z.string().default('handler'),
});

export type ModuleActionSpec = z.infer<typeof moduleActionSchema>;
