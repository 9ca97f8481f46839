/**
 * What a source kind (csv, jsonl, json, sqlite, command, inline, …) supplies: everything about it lives in
 * its own module, and src/core/sources/sourceKinds.ts lists the kinds. A descriptor missing a part does
 * not compile, and test/core/sources/sourceKinds.test.ts checks every registered kind.
 */
import type { z } from 'zod';
import type { FieldHelp } from '../model/kindHelp';
import type { RecordStream } from '../model/types';
import type { SecretLookup } from '../secrets/secrets';
import type { SourceCheckpoint } from './postgres/checkpointTrail';
import type { SourcePin } from './sourcePin';
import type { SourceSeek } from './sourceSeek';

/** The strict zod object schema of one kind's spec, whose `type` is the kind's literal name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- zod's object config is not ours to name
export type SourceKindSchema = z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape, any>;

export interface OpenSourceOptions {
  /** The runbook's folder: source paths and a command's working directory are relative to it. */
  baseDir: string;
  /** Environment for a command source; defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Aborting stops reading (and kills a source command): iteration then throws the abort reason. */
  signal?: AbortSignal;
  /** Runbook line of the first inline record, so inline records report real lines. */
  sourceLine?: number;
  /** Size of file read chunks; only tests need to change it. */
  chunkBytes?: number;
  /**
   * The environment's vars and the run's secrets, for a database source's connection URL and query
   * parameters (`${env:NAME}`, `${secret:NAME}`). Without it only literal values work.
   */
  connection?: {
    env: Readonly<Record<string, string>>;
    secrets: { resolve(name: string): SecretLookup };
  };
  /**
   * A database source reads every page in one consistent snapshot (the default: dry runs, hashing before
   * a run). False for the pass that sends records, which may last hours and must not hold a snapshot.
   */
  snapshot?: boolean;
  /**
   * One run's pin (see sourcePin.ts): a database source with `fingerprint: rows` records the pages its
   * pre-run hash read into it, and the run's sending pass (`snapshot: false`) refuses a page that differs.
   */
  pin?: SourcePin;
  /**
   * A dry run's list to fill: a database source with `fingerprint: rows` adds its checkpoints (a few
   * running hashes along the keys), so a production gate that refuses changed data can say where.
   */
  checkpoints?: SourceCheckpoint[];
  /** Where a database source's errors point: the runbook file, the job cell and its `source` line. */
  location?: { file: string; cell: string; line: number };
  /** Read only this range of keys (a worker's chunk of a shared run); only database sources take it. */
  keyRange?: KeyRange;
  /** Record line starts, or start at one (sourceSeek.ts); only the `seekable` kinds take it. */
  seek?: SourceSeek;
}

/**
 * One range of a database source's keys, read alone: a chunk of a run shared by workers
 * (fleet/chunkRanges.ts). Keys are JSON as the source read them, and compared by the database.
 */
export interface KeyRange {
  /** The range starts after this key (exclusive); undefined: at the first key. */
  after?: string;
  /** The range's last key (inclusive); undefined: to the end, the rows with a NULL key included. */
  through?: string;
  /** The range's rows are lines `lineBase + 1`, `lineBase + 2`, …: line numbers of the chunk's own. */
  lineBase: number;
  /**
   * The hash (RowsHash, 32 hex digits) of the range's rows when the run was split, with `fingerprint:
   * rows`: a range whose rows differ is refused before any of them is yielded.
   */
  rowsHash?: string;
}

/** One source kind: its schema, how it is opened, how its content is hashed, how it is described. */
export interface SourceKind<Schema extends SourceKindSchema = SourceKindSchema> {
  /** The `type:` that selects this kind, equal to the schema's literal. */
  readonly type: z.output<Schema>['type'];
  /** The kind's fields (with the `key` and `fields` every source takes), strict. */
  readonly schema: Schema;
  /**
   * Opens the records. Throws a UserError at once when a source file is missing; problems inside the
   * data arrive as `rejected` items, or as a UserError from iteration when the source as a whole cannot
   * be read. The stream's `contentHash()` is available after reading to the end.
   */
  open(spec: z.output<Schema>, options: OpenSourceOptions): RecordStream;
  /**
   * The content hash before a run starts, equal to what {@link open}'s stream computes after reading it
   * all (the dry-run fingerprint gate compares the two): idempotency keys and the production gate need it
   * before the first record is sent.
   */
  contentHash(spec: z.output<Schema>, options: OpenSourceOptions): Promise<string>;
  /** Where the records come from, in words: `csv orders.csv`. */
  describe(spec: z.output<Schema>): string;
  /**
   * The fields every record of this source has, learnt without reading records (a database query's
   * columns, from a LIMIT 0 probe); absent for kinds whose records can differ.
   */
  columns?(spec: z.output<Schema>, options: OpenSourceOptions): Promise<string[]>;
  /**
   * True when the kind itself yields every key at most once (a database read in keyset pages, which
   * refuses a repeated key): the validator then remembers no key and makes no pass for repeated keys.
   */
  readonly uniqueKeys?: boolean;
  /** True when {@link open} honours `seek` (sourceSeek.ts): records line starts and starts at one. */
  readonly seekable?: boolean;
  /** Help for each field but `type`, `key` and `fields`, for the editor. */
  readonly fieldHelp: FieldHelp;
}
