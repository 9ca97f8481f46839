/**
 * The fields every record source takes, whatever its kind: the record `key` and the declared record
 * schema. This folder cannot depend on the vscode API.
 */
import { z } from 'zod';
import type { FieldHelp } from '../model/kindHelp';

export const FieldTypeSchema = z.enum(['string', 'number', 'integer', 'boolean']);

export const FieldSpecSchema = z.union([
  FieldTypeSchema.transform((type) => ({
    type,
    required: true as boolean,
    pattern: undefined as string | undefined,
  })),
  z.strictObject({
    type: FieldTypeSchema,
    required: z.boolean().default(true),
    /** A regular expression the (string form of the) value must match. */
    pattern: z.string().superRefine(checkRegExp).optional(),
  }),
]);

/** Patterns are checked when the runbook is read, so `check` reports a typo at its line. */
function checkRegExp(pattern: string, ctx: z.RefinementCtx): void {
  try {
    new RegExp(pattern);
  } catch (error) {
    const why = (error as Error).message.replace(/^Invalid regular expression: /, '');
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${why}` });
  }
}

/** The fields every source kind takes besides its own. */
export const sourceCommon = {
  /** The field whose value identifies a record: checkpoints, idempotency keys and gap re-runs use it. */
  key: z.string().min(1),
  /** Declared record schema: each field's type and whether it is required. Other fields pass through. */
  fields: z.record(z.string(), FieldSpecSchema).default({}),
};

export type FieldSpec = z.infer<typeof FieldSpecSchema>;

/** Help for the fields every source takes, for the editor. */
export const sourceCommonFieldHelp: FieldHelp = {
  key: 'The field that identifies a record (checkpoints, idempotency keys, re-runs).',
  fields: 'Declared types: `string`, `number`, `integer`, `boolean`, or `{ type, required, pattern }`.',
};
