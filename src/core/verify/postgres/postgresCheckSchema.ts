/** `check: { type: postgres }` of a verify cell. This file cannot depend on the vscode API. */
import { z } from 'zod';

export const PostgresCheckSchema = z.strictObject({
  type: z.literal('postgres'),
  /** The connection URL: `${secret:NAME}` (one value per environment), never written in the runbook. */
  url: z.string().min(1),
  /** One query with `:name` parameters: bound, never put in the SQL. Its first row is judged. */
  query: z.string().min(1),
  /**
   * Values for the parameters by name; string leaves are templates (`${record:FIELD}`, `${env:NAME}`). A
   * parameter not listed here is the record's field of the same name.
   */
  params: z.record(z.string(), z.unknown()).default({}),
  expect: z
    .strictObject({
      /** Values of the first row's columns. No row means the record is missing. */
      columns: z.record(z.string(), z.unknown()).default({}),
      /** Largest difference between two numbers that still counts as equal (absolute). */
      tolerance: z.number().nonnegative().default(0),
    })
    .default({ columns: {}, tolerance: 0 }),
});

export type PostgresCheckSpec = z.infer<typeof PostgresCheckSchema>;
