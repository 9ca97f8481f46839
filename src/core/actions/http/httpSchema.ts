/** The fields of an HTTP action. This file cannot depend on the vscode API. */
import { z } from 'zod';

export const httpActionSchema = z.strictObject({
  type: z.literal('http'),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  url: z.string().min(1),
  headers: z.record(z.string(), z.string()).default({}),
  /** A JSON body; string leaves are templates. */
  body: z.unknown().optional(),
});

export type HttpActionSpec = z.infer<typeof httpActionSchema>;
