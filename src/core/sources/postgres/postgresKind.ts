/**
 * The PostgreSQL source kind: the rows of one query, read in keyset pages on the declared key. How the
 * rows are read (and what "the source data changed" means for a live database) is in postgresSource.ts.
 * This folder cannot depend on the vscode API.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { rangedNumber } from '../../model/rangedNumber';
import { SecretResolver } from '../../secrets/secrets';
import { hashByReading } from '../recordStream';
import { sourceCommon } from '../sourceFields';
import type { OpenSourceOptions, SourceKind } from '../sourceKind';
import { CheckpointTrail } from './checkpointTrail';
import { describeUrl } from './connection';
import { boundQuery, postgresColumns, postgresSource } from './postgresSource';

const postgresSourceSchema = z.strictObject({
  type: z.literal('postgres'),
  /** The connection URL: `${secret:NAME}` (one value per environment), never written in the runbook. */
  url: z.string().min(1),
  /** One SELECT with `:name` parameters; it must return the key column. Read in keyset pages on the key. */
  query: z.string().min(1),
  /** Values of the query's `:name` parameters; `${env:NAME}`/`${var:NAME}` are filled, then bound. */
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Rows per keyset page: memory stays one page whatever the number of rows. */
  pageSize: rangedNumber('pageSize').default(1000),
  /**
   * What the fingerprint covers: `rows` (the query, its parameters and every row as read, so a production
   * run refuses when the data changed since the dry run, and a run stops at the first page that changed
   * while it reads: the data is pinned) or `query` (only the query and its parameters: for live tables,
   * where rows change all the time and the backfill itself may change them).
   */
  fingerprint: z.enum(['rows', 'query']).default('rows'),
  ...sourceCommon,
});

function contextOf(options: OpenSourceOptions) {
  return {
    context: options.connection ?? { env: {}, secrets: new SecretResolver({}) },
    ...(options.location ? { location: options.location } : {}),
  };
}

function open(
  spec: z.output<typeof postgresSourceSchema>,
  options: OpenSourceOptions,
  pinRole: 'record' | 'compare' = 'compare',
) {
  const snapshot = options.snapshot ?? true;
  // Only the check before a run records pages, and only the pass that sends records (no snapshot)
  // compares them: a dry run or a sample's first reading does neither.
  const pin =
    options.pin && (pinRole === 'record' ? snapshot : !snapshot)
      ? { pin: options.pin, role: pinRole }
      : undefined;
  // A dry run keeps its checkpoints; the check before a run compares with the passing dry run's.
  const given = options.pin;
  const trail =
    pinRole === 'record' && given?.dryRunCheckpoints
      ? new CheckpointTrail(given.dryRunCheckpoints, (_list, read) => {
          given.changedSinceDryRun = read.firstChange;
        })
      : options.checkpoints
        ? new CheckpointTrail([], (list) => options.checkpoints!.push(...list))
        : undefined;
  return postgresSource(spec, {
    ...contextOf(options),
    snapshot,
    ...(options.keyRange ? { keyRange: options.keyRange } : {}),
    ...(pin ? { pin } : {}),
    ...(trail ? { trail } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** The PostgreSQL source kind. */
export const postgresSourceKind: SourceKind<typeof postgresSourceSchema> = {
  type: 'postgres',
  schema: postgresSourceSchema,
  open,
  // The hash a run compares with its dry run's: read in one snapshot, exactly as the dry run read it;
  // with `fingerprint: query` only the query and its parameters, so nothing needs reading.
  contentHash: (spec, options) =>
    spec.fingerprint === 'query'
      ? Promise.resolve(
          createHash('sha256')
            .update(boundQuery(spec, contextOf(options)).signature)
            .digest('hex'),
        )
      : hashByReading(open(spec, { ...options, snapshot: true }, 'record')),
  columns: (spec, options) => postgresColumns(spec, contextOf(options)),
  // Keyset pages read keys in strictly increasing order and refuse a repeated one (postgresSource.ts),
  // so a million-row read neither remembers its keys nor reads the table again to find repeats.
  uniqueKeys: true,
  // The URL is a secret placeholder as written; a literal URL is shown without its user and password.
  describe: (spec) => `postgres ${spec.url.startsWith('${') ? spec.url : describeUrl(spec.url)}`,
  fieldHelp: {
    url: 'Connection URL, `${secret:NAME}` (one value per environment); never written in the runbook.',
    query: 'One SELECT with `:name` parameters that returns the key column; read in keyset pages on the key.',
    params: 'Values of the query’s `:name` parameters; `${env:NAME}` is filled, then bound (never spliced).',
    pageSize: 'Rows per keyset page (default 1000): memory stays one page whatever the number of rows.',
    fingerprint:
      '`rows` (default: the query and every row as read, in one snapshot; the data is pinned: a run stops at a page that changed since its check) or `query` (for tables that change all the time).',
  },
};
