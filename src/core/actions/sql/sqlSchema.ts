/** The fields of `action: { type: sql }`. This folder cannot depend on the vscode API. */
import { z } from 'zod';
import { rangedNumber } from '../../model/rangedNumber';
import { APPLIED_TABLE_PATTERN } from './appliedMarkers';

export const sqlActionSchema = z.strictObject({
  type: z.literal('sql'),
  /** The target's connection URL: `${secret:NAME}` (one value per environment), never in the runbook. */
  url: z.string().min(1),
  /** One statement per record; `:field` placeholders are bound to the record's fields, never spliced. */
  statement: z.string().min(1),
  /** What a statement that changed no row means: the record `fail`s (the default) or `succeed`s. */
  zeroRows: z.enum(['fail', 'succeed']).default('fail'),
  /** Longest a statement may run (SET LOCAL statement_timeout); defaults to the throttle's timeoutMs. */
  statementTimeoutMs: rangedNumber('statementTimeoutMs').optional(),
  /**
   * What the dry run does against the database: `explain` (PREPARE and EXPLAIN, never ANALYZE: nothing
   * runs) or `rollback` (outside production only: run each sampled statement in a transaction that is
   * rolled back, to show the rows it would change).
   */
  dryRun: z.enum(['explain', 'rollback']).default('explain'),
  /**
   * The table of applied records in the target database (appliedMarkers.ts): a record's marker commits
   * with its statement, so a resume after a kill never runs it twice. Default `backfill_applied`;
   * `false` turns markers off. Optional without a default, so runbooks without it keep their fingerprint.
   */
  appliedTable: z
    .union([
      z.string().regex(APPLIED_TABLE_PATTERN, 'a table name, or schema.name (letters, digits, _)'),
      z.literal(false),
    ])
    .optional(),
});

export type SqlActionSpec = z.output<typeof sqlActionSchema>;
