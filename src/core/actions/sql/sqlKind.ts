/**
 * The SQL action: one parameterized statement per record on PostgreSQL, in transactions of `batchSize`
 * records, record values always bound and never spliced. This folder cannot depend on the vscode API.
 *
 * Client: `pg` (node-postgres), the maintained pure-JavaScript driver: it bundles with esbuild, needs no
 * native build on the bastion host, and its pool, parameter binding and error codes are all this needs.
 */
import { SecretResolver } from '../../secrets/secrets';
import type { ActionKind } from '../actionKind';
import { compileSqlAction } from './sqlAction';
import { createSqlExecutor } from './sqlExecutor';
import { sqlPreviewLines, type SqlPreview } from './sqlPreview';
import { sqlActionSchema } from './sqlSchema';

export const sqlAction: ActionKind<typeof sqlActionSchema, SqlPreview> = {
  type: 'sql',
  schema: sqlActionSchema,
  compile: (spec, opts) => compileSqlAction(spec, opts.location),
  createExecutor: (spec, opts) =>
    createSqlExecutor(spec, {
      context: opts.context ?? { env: {}, secrets: new SecretResolver({}) },
      concurrency: opts.concurrency,
      ...(opts.location ? { location: opts.location } : {}),
    }),
  // A batch is one transaction: all of its records commit together (a failing one is then isolated).
  recordsPerAttempt: (_spec, batchSize) => batchSize,
  describe: (spec) => `SQL ${spec.statement.trim()}`,
  previewLines: sqlPreviewLines,
  fieldHelp: {
    url: 'Connection URL of the target database, `${secret:NAME}` (one value per environment).',
    statement: 'One statement per record; `:field` binds the record’s field as a parameter (never spliced).',
    zeroRows: 'A statement that changed no row: the record `fail`s (default) or `succeed`s.',
    statementTimeoutMs:
      'Longest one statement may run (SET LOCAL statement_timeout); default: the throttle’s timeoutMs.',
    dryRun:
      '`explain` (PREPARE and EXPLAIN, nothing runs) or `rollback` (outside production: run, then roll back).',
    appliedTable:
      'Table of applied records in the target (default `backfill_applied`, created once): a resume never runs a record twice. `false`: off.',
  },
};
