/**
 * zod schemas for the runbook header and every cell kind. Objects are strict: an unknown field (a typo
 * such as `concurency`) is an error, never a silent fall-back to a default.
 */
import { z } from 'zod';
import { ActionSchema } from '../actions/actionKinds';
import { CheckSchema } from '../checks/checkKinds';
import { SourceSchema } from '../sources/sourceKinds';
import { passwordWrittenSafely } from '../sources/configText';
import { rangedNumber } from '../model/rangedNumber';
import { SubsetSchema } from '../sources/subset';

const name = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    'use lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

// ---------------------------------------------------------------------------------------------- header

/**
 * Where an environment's ledger lives when not beside the runbook: a PostgreSQL database that workers on
 * many hosts share. Its URL holds a password, so it is a placeholder, resolved when the ledger is opened.
 */
export const LedgerSettingSchema = z.strictObject({
  type: z.literal('postgres'),
  /** The connection URL: `${secret:NAME}` (or `${env:NAME}` for one without a password). */
  url: z
    .string()
    .min(1)
    .refine(
      passwordWrittenSafely,
      'the URL holds a password written out or from ${env:…}/${var:…}, which would be kept in the clear: write it as ${secret:NAME} and export NAME=… instead',
    ),
  /** The ledger's name in the database, which many runbooks can share (default: the runbook's `name`). */
  name: name.optional(),
  /** The schema of backfill's tables (default `backfill`). */
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a PostgreSQL schema name: lower-case letters, digits and "_"')
    .optional(),
  /** Records per chunk of a run shared by workers (default 1000). */
  chunkSize: rangedNumber('chunkSize').optional(),
  /** Seconds a worker's claim on a chunk lasts unless renewed (default 30): a killed worker's chunk waits this long. */
  leaseSeconds: rangedNumber('leaseSeconds').optional(),
  /** Seconds a run waits for the database to come back after it went away, before it halts (default 300). */
  outageSeconds: rangedNumber('outageSeconds').optional(),
});

export const EnvironmentSchema = z.strictObject({
  description: z.string().optional(),
  /** Marks the environment whose runs are real production writes: they need --production --confirm NAME. */
  production: z.boolean().default(false),
  /** Values for `${env:NAME}` in templates. Plain configuration, never secrets. */
  vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  /** The ledger of this environment's runs, when it is not the one beside the runbook. */
  ledger: LedgerSettingSchema.optional(),
});

export const StakeholderSchema = z.strictObject({
  name: z.string().min(1),
  role: z.string().optional(),
  contact: z.string().optional(),
  /** Their SSH public key (`ssh-ed25519 AAAA… comment`): what their signed sign-offs are verified with. */
  key: z
    .string()
    .regex(/^(ssh-|ecdsa-|sk-)\S+ \S+/, 'an SSH public key line: ssh-ed25519 AAAA… (from KEY.pub)')
    .optional(),
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
  /** Production refuses a required sign-off that is not signed with its signer's key from `stakeholders`. */
  requireSignedSignOffs: z.boolean().default(false),
});

// ----------------------------------------------------------------------------------------------- records

export { FieldTypeSchema } from '../sources/sourceFields';
/** A job's `source:`, by `type`: built from the registry of source kinds (src/core/sources/sourceKinds.ts). */
export { SourceSchema } from '../sources/sourceKinds';

// ----------------------------------------------------------------------------------------------- actions

/** A job's `action:`, by `type`: built from the registry of action kinds (src/core/actions/actionKinds.ts). */
export { ActionSchema } from '../actions/actionKinds';

// ---------------------------------------------------------------------------------------------- throttle

/**
 * Throttle fields without defaults: a cell's `throttle:` overrides only the fields it names, so the
 * defaults live on the job's schema alone (zod's partial() would keep them and reset the job's values).
 */
const throttleFields = {
  /** Records per second, never exceeded. */
  rate: rangedNumber('rate'),
  concurrency: rangedNumber('concurrency'),
  batchSize: rangedNumber('batchSize'),
  /** Per request (or command) timeout. */
  timeoutMs: rangedNumber('timeoutMs'),
  retries: rangedNumber('retries'),
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
  maxFailureRatio: rangedNumber('maxFailureRatio'),
  window: rangedNumber('window'),
  maxConsecutiveFailures: rangedNumber('maxConsecutiveFailures'),
  maxFailures: rangedNumber('maxFailures'),
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
  first: rangedNumber('preview.first').default(3),
  /** How many records, drawn at random with the seed, to render. */
  random: rangedNumber('preview.random').default(3),
  seed: rangedNumber('preview.seed').default(1),
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
  successThreshold: rangedNumber('successThreshold').default(1),
  /** Most rejected (malformed) records the dry run passes with. */
  maxRejected: rangedNumber('maxRejected').optional(),
});

export const ExecuteCellSchema = z.strictObject({
  description: z.string().optional(),
  ...jobReference,
  /**
   * Fraction of the records that could be sent (rejected ones left out) that must succeed for the run to
   * count as a success, e.g. 0.9999.
   */
  successThreshold: rangedNumber('successThreshold').default(1),
  /** Most rejected (malformed) records a run (and its dry run) may have and still succeed. */
  maxRejected: rangedNumber('maxRejected').optional(),
  errorBudget: ErrorBudgetOverrideSchema.optional(),
  /**
   * `delivered`: send again the records another execute cell of this runbook already delivered (by
   * default a later cell skips them: "20 skipped: done by small-batch").
   */
  resend: z.enum(['delivered']).optional(),
});

export const VerifyCellSchema = z.strictObject({
  description: z.string().optional(),
  ...jobReference,
  /** How to read each record's real end state and what it must be (see src/core/checks/checkKinds.ts). */
  check: CheckSchema,
});

export const ChecklistItemSchema = z.strictObject({
  /** Stable id for sign-offs in the ledger; defaults to a slug of the text. */
  id: name.optional(),
  item: z.string().min(1),
  owner: z.string().min(1),
  /** Required items gate production runs. */
  required: z.boolean().default(false),
  checked: z
    .strictObject({
      by: z.string().min(1),
      at: z.string().min(1),
      /** The plan the sign-off approved (see core/signoff/signOffPlan.ts). */
      plan: z.string().optional(),
      /** `ssh-keygen -Y sign` of the sign-off by `by`'s key, base64 on one line. */
      signature: z.string().optional(),
    })
    .optional(),
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
  /** Records skipped because another cell of the job delivered them, by that cell ("done by small-batch"). */
  doneElsewhere: z.record(z.string(), z.number()).optional(),
  rate: z.number().nonnegative().optional(),
  errors: z.record(z.string(), z.number()).optional(),
  /** The run's top failure reasons: "50 × connection refused (127.0.0.1:9) — e.g. key 1017". */
  failures: z.array(z.string()).optional(),
});

export type Header = z.infer<typeof HeaderSchema>;
export type Environment = z.infer<typeof EnvironmentSchema>;
export type LedgerSetting = z.infer<typeof LedgerSettingSchema>;
export type { SourceSpec } from '../sources/sourceKinds';
export type { FieldSpec } from '../sources/sourceFields';
export type { ActionSpec } from '../actions/actionKinds';
export type { HttpActionSpec } from '../actions/http/httpSchema';
export type { CommandActionSpec } from '../actions/command/commandSchema';
export type { ModuleActionSpec } from '../actions/module/moduleSchema';
export type Throttle = z.infer<typeof ThrottleSchema>;
export type { Subset } from '../sources/subset';
export type ErrorBudgetSpec = z.infer<typeof ErrorBudgetSchema>;
export type JobCell = z.infer<typeof JobCellSchema>;
export type DryRunCell = z.infer<typeof DryRunCellSchema>;
export type ExecuteCell = z.infer<typeof ExecuteCellSchema>;
export type VerifyCell = z.infer<typeof VerifyCellSchema>;
export type ChecklistItem = z.infer<typeof ChecklistItemSchema>;
export type Result = z.infer<typeof ResultSchema>;
