/**
 * PostgreSQL record source: the rows of one query, read in keyset pages on the declared key
 * (`WHERE key > $last ORDER BY key LIMIT n`), so 10 million rows take the memory of one page. This file
 * cannot depend on the vscode API.
 *
 * What "the source data changed" means here: with `fingerprint: rows` (the default) the content hash
 * covers the query, its parameter values and every row as read in key order. A dry run (and the check a
 * production run makes before it starts) reads all pages in one REPEATABLE READ, READ ONLY transaction,
 * so the hash is of one consistent snapshot; a production run whose hash differs from the passing dry run's
 * is refused by the gate — rows were added, removed or changed since. The pass that sends records reads
 * page by page outside a transaction (a snapshot held for hours would hold back vacuum), but the data stays
 * pinned: the check records a hash of each keyset page (sourcePin.ts), and the sending pass hashes each
 * page it reads before yielding any of its rows; a page that differs stops the run there with the range
 * of keys that changed, so every record sent is a row exactly as the dry run read it. With
 * `fingerprint: query` only the query and its parameters are hashed and nothing is pinned: pick it for
 * tables that change all the time (or that the backfill itself changes).
 */
import type { Client, QueryResult } from 'pg';
import type { Issue, RecordStream, SourceItem } from '../../model/types';
import { UserError } from '../../model/types';
import { bindNamed, compileNamedSql, type NamedSql } from '../../support/postgres/namedSql';
import { quoteIdentifier } from '../../support/postgres/sqlText';
import { canonicalJson } from '../canonicalJson';
import { createRecordStream } from '../recordStream';
import { RowsHash, type PinnedPage, type SourcePin } from '../sourcePin';
import type { KeyRange } from '../sourceKind';
import type { CheckpointTrail } from './checkpointTrail';
import {
  connectClient,
  resolveConfigText,
  resolveConnectionUrl,
  scrub,
  type ConnectionContext,
} from './connection';

export interface PostgresSourceSpec {
  url: string;
  query: string;
  params: Record<string, string | number | boolean>;
  pageSize: number;
  fingerprint: 'rows' | 'query';
  key: string;
}

export interface PostgresSourceOptions {
  /** The environment's vars and the secrets, for the URL and `${env:…}` parameters. */
  context: ConnectionContext;
  signal?: AbortSignal;
  /**
   * Read every page in one repeatable-read snapshot (a dry run, the pre-run check). False for the pass
   * that sends records, which may last hours.
   */
  snapshot: boolean;
  /**
   * `record`: keep a hash of each page read in the pin (the check before a run). `compare`: refuse a page
   * whose hash differs from the pin's (the run's sending pass). Only with `fingerprint: rows`.
   */
  pin?: { pin: SourcePin; role: 'record' | 'compare' };
  /** Checkpoints of this read (checkpointTrail.ts), with `fingerprint: rows`: ended when the read ends. */
  trail?: CheckpointTrail;
  /** Where errors point: the runbook file, the job cell and the line of its `source`. */
  location?: { file: string; cell: string; line: number };
  /** Read only these keys (a worker's chunk of a shared run), checked against their hash when it has one. */
  keyRange?: KeyRange;
}

/** Opens the source lazily: nothing connects until the stream is iterated. */
export function postgresSource(spec: PostgresSourceSpec, options: PostgresSourceOptions): RecordStream {
  return createRecordStream(async function* (tap) {
    const fail = (field: string, message: string) => locatedError(options.location, field, message);
    const { sql, values, signature } = boundQuery(spec, options);
    const url = locatedConfig(options.location, 'source.url', () =>
      resolveConnectionUrl(spec.url, options.context, 'source.url'),
    );
    // What was read starts with what was asked: the same rows from another query are other data.
    tap.update(signature);
    const client = await connectClient(url);
    const run = (text: string, values: unknown[]) => query(client, text, values, url, fail);
    try {
      if (options.snapshot) await run('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', []);
      const key = quoteIdentifier(spec.key);
      const from = `(${sql.text}) AS backfill_source`;
      const probe = await run(`SELECT * FROM ${from} LIMIT 0`, values);
      const columns = probe.fields.map((field) => field.name);
      if (!columns.includes(spec.key)) {
        throw fail(
          'source.key',
          `the query returns no column "${spec.key}" (it returns ${columns.join(', ') || 'no columns'}): add the key column to the SELECT, or declare the key it returns`,
        );
      }
      const range = options.keyRange;
      const pages = range ? undefined : pagePin(spec, options, fail);
      const upTo = range?.through === undefined ? undefined : (JSON.parse(range.through) as unknown);
      let row = range?.lineBase ?? 0;
      let last: unknown = range?.after === undefined ? undefined : JSON.parse(range.after);
      let first = last === undefined;
      // A range with its hash is held whole and compared before any row of it is sent.
      const held =
        range?.rowsHash !== undefined ? { items: [] as SourceItem[], hash: new RowsHash() } : undefined;
      for (;;) {
        options.signal?.throwIfAborted();
        const pageValues = [...values];
        const bound = (value: unknown) => `$${pageValues.push(value)}`;
        const conditions = [first ? `${key} IS NOT NULL` : `${key} > ${bound(last)}`];
        if (upTo !== undefined) conditions.push(`${key} <= ${bound(upTo)}`);
        // One row more than a page: if it repeats the page's last key, the key is not unique (keyset pages
        // would silently skip the repeats), so the source is refused instead.
        const page = await run(
          `SELECT * FROM ${from} WHERE ${conditions.join(' AND ')} ORDER BY ${key} LIMIT ${spec.pageSize + 1}`,
          pageValues,
        ).catch((error: unknown) => {
          throw orderingError(error, spec.key, fail) ?? error;
        });
        const rows = page.rows as Record<string, unknown>[];
        const pageRows = rows.slice(0, spec.pageSize);
        pages?.page(pageRows, spec.key);
        if (spec.fingerprint === 'rows' && pageRows.length > 0) {
          options.trail?.page(pageRows, JSON.stringify(pageRows[pageRows.length - 1]![spec.key]));
        }
        for (let i = 0; i < Math.min(rows.length, spec.pageSize); i++) {
          const fields = rows[i]!;
          const next = rows[i + 1];
          if (next && sameKey(fields[spec.key], next[spec.key])) {
            throw fail(
              'source.key',
              `the key "${spec.key}" is not unique: ${JSON.stringify(fields[spec.key])} appears more than once; keyset pages need a unique key: declare one (or make the query return one)`,
            );
          }
          row += 1;
          if (spec.fingerprint === 'rows') tap.update(`\n${canonicalJson(fields)}`);
          const item = { kind: 'record', line: row, fields } satisfies SourceItem;
          if (!held) yield item;
          else {
            held.items.push(item);
            held.hash.add(fields);
          }
        }
        if (rows.length <= spec.pageSize) break;
        last = rows[spec.pageSize - 1]![spec.key];
        first = false;
      }
      if (held) {
        if (held.hash.digest(32) !== range!.rowsHash) throw rangeChanged(range!, fail);
        yield* held.items;
      }
      pages?.end();
      if (spec.fingerprint === 'rows') options.trail?.end();
      // The rows with a NULL key are no range's but the last one's.
      const count =
        range?.through !== undefined
          ? 0
          : (
              (await run(`SELECT count(*)::int AS n FROM ${from} WHERE ${key} IS NULL`, values)).rows[0] as {
                n: number;
              }
            ).n;
      for (let i = 0; i < count; i++) {
        row += 1;
        yield { kind: 'rejected', line: row, reason: `the key "${spec.key}" is NULL in this row` };
      }
      if (count > 0 && spec.fingerprint === 'rows') tap.update(`\nnull keys: ${count}`);
      if (options.snapshot) await run('COMMIT', []);
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}

/** The columns the query returns, from a LIMIT 0 probe (nothing is read). */
export async function postgresColumns(
  spec: PostgresSourceSpec,
  options: Pick<PostgresSourceOptions, 'context' | 'location'>,
): Promise<string[]> {
  const fail = (field: string, message: string) => locatedError(options.location, field, message);
  const { sql, values } = boundQuery(spec, options);
  const url = locatedConfig(options.location, 'source.url', () =>
    resolveConnectionUrl(spec.url, options.context, 'source.url'),
  );
  const client = await connectClient(url);
  try {
    const probe = await query(
      client,
      `SELECT * FROM (${sql.text}) AS backfill_source LIMIT 0`,
      values,
      url,
      fail,
    );
    return probe.fields.map((field) => field.name);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The page hashes of one read: kept in the pin (the check before a run), or compared with it (the pass
 * that sends records), which throws before the rows of a page that changed since the check are yielded.
 */
function pagePin(
  spec: PostgresSourceSpec,
  options: PostgresSourceOptions,
  fail: (field: string, message: string) => UserError,
) {
  const given = options.pin;
  if (!given || spec.fingerprint !== 'rows') return undefined;
  const { pin, role } = given;
  if (role === 'compare' && pin.pages === undefined) return undefined;
  const read: PinnedPage[] = [];
  // Keys as JSON, so a text key "7" and an integer key 7 read differently.
  const range = (after: string | undefined, upTo: string) =>
    `${after === undefined ? 'from the first' : `after ${after}`} up to ${upTo}`;
  const changed = (what: string) =>
    fail(
      'source',
      `the source data changed while the run was reading it: ${what} since the check at ${pin.checkedAt ?? 'the start'} read them, so the run stopped before sending them (the records before them were sent as the dry run read them): find out who changes these rows, then dry-run again; for a table that changes all the time, use fingerprint: query`,
    );
  return {
    page(rows: Record<string, unknown>[], key: string): void {
      if (rows.length === 0) return;
      const after = read[read.length - 1]?.lastKey;
      const hash = new RowsHash();
      for (const fields of rows) hash.add(fields);
      const lastKey = JSON.stringify(rows[rows.length - 1]![key]);
      // 64 bits tell a changed page from the same one; a page costs ~50 bytes however long its rows.
      const now: PinnedPage = { lastKey, rows: rows.length, hash: hash.digest(16) };
      if (role === 'record') {
        read.push(now);
        return;
      }
      const then = pin.pages![read.length];
      read.push(now);
      if (!then || then.hash !== now.hash) {
        const upTo = then && then.lastKey !== lastKey ? `${then.lastKey} (now ${lastKey})` : lastKey;
        throw changed(
          then
            ? `the rows with keys ${range(after, upTo)} are not the ${then.rows} rows it read there`
            : `the rows with keys ${range(after, lastKey)} are new`,
        );
      }
    },
    end(): void {
      if (role === 'record') {
        pin.pages = read;
        pin.checkedAt = new Date().toISOString();
        return;
      }
      const gone = pin.pages!.slice(read.length);
      if (gone.length > 0) {
        const rows = gone.reduce((sum, p) => sum + p.rows, 0);
        throw changed(
          `the ${rows} rows with keys ${range(read[read.length - 1]?.lastKey, gone[gone.length - 1]!.lastKey)} are gone`,
        );
      }
    },
  };
}

/** A chunk's rows differ from those the run was split from: its records are not sent. */
function rangeChanged(range: KeyRange, fail: (field: string, message: string) => UserError): UserError {
  const from = range.after === undefined ? 'from the first' : `after ${range.after}`;
  const to = range.through === undefined ? 'to the last' : `up to ${range.through}`;
  return fail(
    'source',
    `the source data changed while the run was reading it: the rows with keys ${from} ${to} are not the rows the run was split into chunks from, so none of them was sent (the chunks before were sent as read): find out who changes these rows, then dry-run again; for a table that changes all the time, use fingerprint: query`,
  );
}

/**
 * The query with its `:name` parameters bound, and its signature: the query as written and the
 * parameter values, the start of every content hash (and all of it with `fingerprint: query`).
 */
export function boundQuery(
  spec: PostgresSourceSpec,
  options: Pick<PostgresSourceOptions, 'context' | 'location'>,
): { sql: NamedSql; values: unknown[]; signature: string } {
  const fail = (field: string, message: string) => locatedError(options.location, field, message);
  const compiled = compileNamedSql(stripTrailingSemicolons(spec.query));
  if (!compiled.ok) throw fail('source.query', `column ${compiled.column}: ${compiled.message}`);
  const params = bindNamed(compiled.sql, (name) =>
    Object.hasOwn(spec.params, name)
      ? {
          found: true,
          value: locatedConfig(options.location, `source.params.${name}`, () =>
            paramValue(spec.params[name]!, name, options.context),
          ),
        }
      : { found: false },
  );
  if (!params.ok) {
    throw fail(
      'source.params',
      `the query uses ${params.missing.map((n) => `:${n}`).join(', ')} but params does not set it: add it under params`,
    );
  }
  const signature = canonicalJson({
    query: spec.query,
    params: Object.fromEntries(compiled.sql.names.map((n, i) => [n, params.values[i]])),
  });
  return { sql: compiled.sql, values: params.values, signature };
}

/** A missing secret or var in the URL or a parameter, said at the cell's line like the source's other errors. */
function locatedConfig<T>(location: PostgresSourceOptions['location'], field: string, resolve: () => T): T {
  try {
    return resolve();
  } catch (error) {
    if (!(error instanceof UserError) || !location) throw error;
    throw locatedError(location, field, error.message.replace(`${field}: `, ''));
  }
}

function paramValue(value: string | number | boolean, name: string, ctx: ConnectionContext): unknown {
  return typeof value === 'string' ? resolveConfigText(value, ctx, `source.params.${name}`) : value;
}

function sameKey(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

async function query(
  client: Client,
  text: string,
  values: unknown[],
  url: string,
  fail: (field: string, message: string) => UserError,
): Promise<QueryResult> {
  try {
    return await client.query(text, values);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '42883' && /ordering operator/.test((error as Error).message)) throw error;
    if (code && /^[0-9A-Z]{5}$/.test(code)) {
      throw fail('source.query', `PostgreSQL says: ${scrub((error as Error).message, url)} (${code})`);
    }
    throw fail('source', `reading from PostgreSQL failed: ${scrub((error as Error).message, url)}`);
  }
}

/** The database's refusal to order by the key, said in words about the runbook. */
function orderingError(
  error: unknown,
  key: string,
  fail: (f: string, m: string) => UserError,
): UserError | undefined {
  if ((error as { code?: string }).code !== '42883') return undefined;
  return fail(
    'source.key',
    `the key "${key}" cannot be ordered (${(error as Error).message}): keyset pages need an orderable, unique key such as an integer or text id`,
  );
}

function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

/** A UserError printed as `FILE:LINE: cell ID: FIELD: message` when the location is known. */
export function locatedError(
  location: PostgresSourceOptions['location'],
  field: string,
  message: string,
): UserError {
  if (!location) return new UserError(`${field}: ${message}`);
  const issue: Issue = { file: location.file, line: location.line, cell: location.cell, field, message };
  return new UserError(`the source of job ${location.cell} cannot be read`, [issue]);
}
