/**
 * The fields of `source: { type: postgres }` (the key and record schema are every source's). This file
 * cannot depend on the vscode API.
 */
import { z } from 'zod';

export const postgresSourceFields = {
  /** The connection URL: `${secret:NAME}` (one value per environment), never written in the runbook. */
  url: z.string().min(1),
  /** One SELECT with `:name` parameters; it must return the key column. Read in keyset pages on the key. */
  query: z.string().min(1),
  /** Values of the query's `:name` parameters; `${env:NAME}`/`${var:NAME}` are filled, then bound. */
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Rows per keyset page: memory stays one page whatever the number of rows. */
  pageSize: z.number().int().positive().max(100_000).default(1000),
  /**
   * What the fingerprint covers: `rows` (the query, its parameters and every row as read, so a production
   * run refuses when the data changed since the dry run) or `query` (only the query and its parameters:
   * for live tables, where rows change all the time and the backfill itself may change them).
   */
  fingerprint: z.enum(['rows', 'query']).default('rows'),
};
