/** The fields of a command action. This file cannot depend on the vscode API. */
import { z } from 'zod';

export const commandActionSchema = z.strictObject({
  type: z.literal('command'),
  /** argv array, never a shell string. Each element is a template and stays one argument. */
  argv: z.array(z.string()).min(1),
  /** `record`: one process per record, the record as JSON on stdin; `batch`: JSON Lines on stdin. */
  mode: z.enum(['record', 'batch']).default('record'),
  env: z.record(z.string(), z.string()).default({}),
});

export type CommandActionSpec = z.infer<typeof commandActionSchema>;
