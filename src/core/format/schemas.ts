/**
 * zod schemas for the runbook header and every cell kind. Objects are strict: an unknown field (a typo
 * such as `concurency`) is an error, never a silent fall-back to a default.
 */
import { z } from 'zod';
import { CheckSchema } from './checkSchemas';
import { postgresSourceFields } from '../sources/postgres/postgresSourceSchema';
import { sqlActionFields } from '../actions/sql/sqlActionSchema';
import { amqpActionFields } from '../actions/amqp/amqpActionSchema';

const name = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    'use lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

/** A positive duration in milliseconds. */
const millis = z.number().int().positive();

// ---------------------------------------------------------------------------------------------- header

export const EnvironmentSchema = z.strictObject({
  description: z.string().optional(),
  /** Marks the environment whose runs are real production writes: they need --production --confirm NAME. */
  production: z.boolean().default(false),
  /** Values for `${env:NAME}` in templates. Plain configuration, never secrets. */
  vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
});

export const StakeholderSchema = z.strictObject({
  name: z.string().min(1),
  role: z.string().optional(),
  contact: z.string().optional(),
});

export const HeaderSchema = z.strictObject({
  title: z.string().min(1),
  /** The name a production run must be confirmed with. */
  name,
  owner: z.string().min(1),
  environments: z.record(name, EnvironmentSchema).default({}),
  /** The environment used when none is chosen; defaults to the first non-production one. */
  defaultEnvironment: name.optional(),
  stakeholders: z.array(StakeholderSchema).default([]),
});

// ----------------------------------------------------------------------------------------------- records

export const FieldTypeSchema = z.enum(['string', 'number', 'integer', 'boolean']);

const FieldSpecSchema = z.union([
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

const sourceCommon = {
  /** The field whose value identifies a record: checkpoints, idempotency keys and gap re-runs use it. */
  key: z.string().min(1),
  /** Declared record schema: each field's type and whether it is required. Other fields pass through. */
  fields: z.record(z.string(), FieldSpecSchema).default({}),
};

export const SourceSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('csv'),
    path: z.string().min(1),
    delimiter: z.string().length(1).default(','),
    ...sourceCommon,
  }),
  z.strictObject({ type: z.literal('jsonl'), path: z.string().min(1), ...sourceCommon }),
  z.strictObject({ type: z.literal('json'), path: z.string().min(1), ...sourceCommon }),
  z.strictObject({
    type: z.literal('sqlite'),
    path: z.string().min(1),
    query: z.string().min(1),
    ...sourceCommon,
  }),
  z.strictObject({ type: z.literal('postgres'), ...postgresSourceFields, ...sourceCommon }),
  z.strictObject({
    type: z.literal('command'),
    /** argv array, never a shell string; stdout is read as JSON Lines. */
    argv: z.array(z.string()).min(1),
    ...sourceCommon,
  }),
  z.strictObject({
    type: z.literal('inline'),
    records: z.array(z.record(z.string(), z.unknown())),
    ...sourceCommon,
  }),
]);

// ----------------------------------------------------------------------------------------------- actions

const templateMap = z.record(z.string(), z.string());

export const ActionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('http'),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    url: z.string().min(1),
    headers: templateMap.default({}),
    /** A JSON body; string leaves are templates. */
    body: z.unknown().optional(),
  }),
  z.strictObject({
    type: z.literal('command'),
    /** argv array, never a shell string. Each element is a template and stays one argument. */
    argv: z.array(z.string()).min(1),
    /** `record`: one process per record, the record as JSON on stdin; `batch`: JSON Lines on stdin. */
    mode: z.enum(['record', 'batch']).default('record'),
    env: templateMap.default({}),
  }),
  z.strictObject({
    type: z.literal('module'),
    /** A JS or TS file, relative to the runbook, exporting the handler (and optionally `dryRun`). */
    path: z.string().min(1),
    export: z.string().default('handler'),
  }),
  z.strictObject({ type: z.literal('sql'), ...sqlActionFields }),
  z.strictObject({ type: z.literal('amqp'), ...amqpActionFields }),
]);

// ---------------------------------------------------------------------------------------------- throttle

/**
 * Throttle fields without defaults: a cell's `throttle:` overrides only the fields it names, so the
 * defaults live on the job's schema alone (zod's partial() would keep them and reset the job's values).
 */
const throttleFields = {
  /** Records per second, never exceeded. */
  rate: z.number().positive(),
  concurrency: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  /** Per request (or command) timeout. */
  timeoutMs: millis,
  retries: z.number().int().nonnegative(),
  /** Which failures are retried (up to `retries` times, with exponential backoff and jitter). */
  retryOn: z.array(z.enum(['429', '5xx', 'timeout', 'connection'])),
};

export const ThrottleSchema = z.strictObject({
  rate: throttleFields.rate.default(10),
  concurrency: throttleFields.concurrency.default(4),
  batchSize: throttleFields.batchSize.default(100),
  timeoutMs: throttleFields.timeoutMs.default(10_000),
  retries: throttleFields.retries.default(3),
  retryOn: throttleFields.retryOn.default(['429', '5xx', 'timeout', 'connection']),
});

export const ThrottleOverrideSchema = z.strictObject({
  rate: throttleFields.rate.optional(),
  concurrency: throttleFields.concurrency.optional(),
  batchSize: throttleFields.batchSize.optional(),
  timeoutMs: throttleFields.timeoutMs.optional(),
  retries: throttleFields.retries.optional(),
  retryOn: throttleFields.retryOn.optional(),
});

const errorBudgetFields = {
  /** Failed share of the last `window` records above which the run halts. */
  maxFailureRatio: z.number().min(0).max(1),
  window: z.number().int().positive(),
  maxConsecutiveFailures: z.number().int().positive(),
  maxFailures: z.number().int().positive(),
};

/** Stop conditions: the run halts (resumable, exit 3) with the reason when one is exceeded. */
export const ErrorBudgetSchema = z.strictObject({
  maxFailureRatio: errorBudgetFields.maxFailureRatio.default(0.2),
  window: errorBudgetFields.window.default(100),
  maxConsecutiveFailures: errorBudgetFields.maxConsecutiveFailures.default(50),
  maxFailures: errorBudgetFields.maxFailures.optional(),
});

/** A cell's error budget overrides only the fields it names. */
export const ErrorBudgetOverrideSchema = z.strictObject({
  maxFailureRatio: errorBudgetFields.maxFailureRatio.optional(),
  window: errorBudgetFields.window.optional(),
  maxConsecutiveFailures: errorBudgetFields.maxConsecutiveFailures.optional(),
  maxFailures: errorBudgetFields.maxFailures.optional(),
});

export const SubsetSchema = z.strictObject({
  first: z.number().int().positive().optional(),
  keys: z.array(z.union([z.string(), z.number()]).transform(String)).optional(),
  keysFile: z.string().optional(),
  sample: z
    .strictObject({
      count: z.number().int().positive().optional(),
      percent: z.number().positive().max(100).optional(),
      seed: z.number().int().default(1),
    })
    .optional(),
  range: z.strictObject({ from: z.string().optional(), to: z.string().optional() }).optional(),
  exclude: z.array(z.union([z.string(), z.number()]).transform(String)).optional(),
});

// ------------------------------------------------------------------------------------------------- cells

export const JobCellSchema = z.strictObject({
  description: z.string().optional(),
  source: SourceSchema,
  action: ActionSchema,
  throttle: ThrottleSchema.default(ThrottleSchema.parse({})),
  errorBudget: ErrorBudgetSchema.default(ErrorBudgetSchema.parse({})),
});

const PreviewSchema = z.strictObject({
  /** How many of the first records to render. */
  first: z.number().int().nonnegative().default(3),
  /** How many records, drawn at random with the seed, to render. */
  random: z.number().int().nonnegative().default(3),
  seed: z.number().int().default(1),
});

const jobReference = {
  /** The id of the job cell this cell runs. */
  job: name,
  subset: SubsetSchema.optional(),
  throttle: ThrottleOverrideSchema.optional(),
};

export const DryRunCellSchema = z.strictObject({
  description: z.string().optional(),
  ...jobReference,
  preview: PreviewSchema.default(PreviewSchema.parse({})),
  /** Share of records that must be valid for the dry run to pass, e.g. 0.999. */
  successThreshold: z.number().min(0).max(1).default(1),
});

export const ExecuteCellSchema = z.strictObject({
  description: z.string().optional(),
  ...jobReference,
  /** Fraction of records that must succeed for the run to count as a success, e.g. 0.9999. */
  successThreshold: z.number().min(0).max(1).default(1),
  errorBudget: ErrorBudgetOverrideSchema.optional(),
});

export const VerifyCellSchema = z.strictObject({
  description: z.string().optional(),
  ...jobReference,
  /** How to read each record's real end state and what it must be (see checkSchemas.ts). */
  check: CheckSchema,
});

export const ChecklistItemSchema = z.strictObject({
  /** Stable id for sign-offs in the ledger; defaults to a slug of the text. */
  id: name.optional(),
  item: z.string().min(1),
  owner: z.string().min(1),
  /** Required items gate production runs. */
  required: z.boolean().default(false),
  checked: z.strictObject({ by: z.string().min(1), at: z.string().min(1) }).optional(),
});

export const ChecklistCellSchema = z.array(ChecklistItemSchema);

/** The last result of a cell, embedded in the runbook so the committed file records what happened. */
export const ResultSchema = z.strictObject({
  run: z.string().optional(),
  mode: z.enum(['dry-run', 'execute', 'production', 'verify']),
  environment: z.string().optional(),
  operator: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  durationMs: z.number().nonnegative().optional(),
  outcome: z.string().optional(),
  /** Why the run halted, stayed below its threshold, or why a dry run did not pass. */
  reason: z.string().optional(),
  fingerprint: z.string().optional(),
  counts: z.record(z.string(), z.number()).default({}),
  rate: z.number().nonnegative().optional(),
  errors: z.record(z.string(), z.number()).optional(),
});

export type Header = z.infer<typeof HeaderSchema>;
export type Environment = z.infer<typeof EnvironmentSchema>;
export type SourceSpec = z.infer<typeof SourceSchema>;
export type FieldSpec = z.infer<typeof FieldSpecSchema>;
export type ActionSpec = z.infer<typeof ActionSchema>;
export type HttpActionSpec = Extract<ActionSpec, { type: 'http' }>;
export type CommandActionSpec = Extract<ActionSpec, { type: 'command' }>;
export type ModuleActionSpec = Extract<ActionSpec, { type: 'module' }>;
export type SqlActionSpec = Extract<ActionSpec, { type: 'sql' }>;
export type Throttle = z.infer<typeof ThrottleSchema>;
export type Subset = z.infer<typeof SubsetSchema>;
export type ErrorBudgetSpec = z.infer<typeof ErrorBudgetSchema>;
export type JobCell = z.infer<typeof JobCellSchema>;
export type DryRunCell = z.infer<typeof DryRunCellSchema>;
export type ExecuteCell = z.infer<typeof ExecuteCellSchema>;
export type VerifyCell = z.infer<typeof VerifyCellSchema>;
export type ChecklistItem = z.infer<typeof ChecklistItemSchema>;
export type Result = z.infer<typeof ResultSchema>;
