/**
 * zod schemas for the `check` of a verify cell: how a record's real end state is read, and what it must
 * be. Expectations map a field path (`amount`, `customer.email`) to the expected JSON value; string
 * leaves are templates, so `${record:amount}` compares against the record and `true` against a constant.
 * This file cannot depend on the vscode API.
 */
import { z } from 'zod';
import { PostgresCheckSchema } from '../verify/postgres/postgresCheckSchema';

const templateMap = z.record(z.string(), z.string());

/** Field path → expected value; string leaves are templates (`${record:FIELD}`, `${env:NAME}`). */
const fieldExpectations = z.record(z.string(), z.unknown());

/** Largest difference between two numbers that still counts as equal (absolute). */
const tolerance = z.number().nonnegative().default(0);

/** Reads the record's state with an HTTP request (templated like an HTTP action) and judges the answer. */
export const HttpCheckSchema = z.strictObject({
  type: z.literal('http'),
  method: z.enum(['GET', 'POST']).default('GET'),
  /** Templated like an action's URL: a record value is exactly one encoded path segment or query value. */
  url: z.string().min(1),
  headers: templateMap.default({}),
  /** A JSON body for lookups that need one (POST); string leaves are templates. */
  body: z.unknown().optional(),
  expect: z
    .strictObject({
      /** The status of a record in the right state. 404 and 410 mean the record is missing. */
      status: z.number().int().min(100).max(599).default(200),
      /** Fields of the JSON response body. */
      body: fieldExpectations.default({}),
      tolerance,
    })
    .default({ status: 200, body: {}, tolerance: 0 }),
});

/** Runs a command per record and judges its exit code and, optionally, the JSON it prints. */
export const CommandCheckSchema = z.strictObject({
  type: z.literal('command'),
  /** argv array, never a shell string; the record is written to stdin as one JSON line. */
  argv: z.array(z.string()).min(1),
  env: templateMap.default({}),
  expect: z
    .strictObject({
      /** The exit code of a record in the right state; any other code (but 75, "retry") is a mismatch. */
      exitCode: z.number().int().default(0),
      /** An exit code meaning "no such record". */
      missingExitCode: z.number().int().optional(),
      /** Fields of the JSON object the command prints; empty output or `null` means the record is missing. */
      stdout: fieldExpectations.optional(),
      tolerance,
    })
    .default({ exitCode: 0, tolerance: 0 }),
});

/** Calls a JS or TS module's verify function, which returns the verdict itself. */
export const ModuleCheckSchema = z.strictObject({
  type: z.literal('module'),
  /**
   * A JS or TS file, relative to the runbook, whose export returns `{ ok: true }` or `{ ok: false,
   * expected, actual, detail }` (`missing: true` for a record that does not exist).
   */
  path: z.string().min(1),
  export: z.string().default('verify'),
});

/** Queries a SQLite file per record, with record values bound as parameters, and judges the first row. */
export const SqliteCheckSchema = z.strictObject({
  type: z.literal('sqlite'),
  /** A SQLite file, relative to the runbook; read once when the verification starts, never written. */
  path: z.string().min(1),
  /** One statement with `?` (or `:name`) parameters: record values are bound, never put in the SQL. */
  query: z.string().min(1),
  /** Values for the parameters: a list for `?`, a map for `:name`; string leaves are templates. */
  params: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).default([]),
  expect: z
    .strictObject({
      /** Values of the first row's columns. No row means the record is missing. */
      columns: fieldExpectations.default({}),
      tolerance,
    })
    .default({ columns: {}, tolerance: 0 }),
});

/** A verify cell's `check`, by `type`. */
export const CheckSchema = z.discriminatedUnion('type', [
  HttpCheckSchema,
  CommandCheckSchema,
  ModuleCheckSchema,
  SqliteCheckSchema,
  PostgresCheckSchema,
]);

export type CheckSpec = z.infer<typeof CheckSchema>;
export type HttpCheckSpec = z.infer<typeof HttpCheckSchema>;
export type CommandCheckSpec = z.infer<typeof CommandCheckSchema>;
export type ModuleCheckSpec = z.infer<typeof ModuleCheckSchema>;
export type SqliteCheckSpec = z.infer<typeof SqliteCheckSchema>;
