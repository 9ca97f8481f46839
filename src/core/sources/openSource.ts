/** The one entry point for reading a job's records, whatever kind of source the runbook declares. */
import type { SourceSpec } from '../format/schemas';
import type { RecordStream } from '../types';
import { commandSource } from './commandSource';
import { csvSource } from './csvSource';
import { inlineSource } from './inlineSource';
import { jsonArraySource } from './jsonArraySource';
import { jsonlSource } from './jsonlSource';
import { postgresSource } from './postgres/postgresSource';
import type { ConnectionContext } from '../postgres/connection';
import { SecretResolver } from '../secrets';
import { locateSourceFile } from './sourceFile';
import { sqliteSource } from './sqliteSource';

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
  /** The environment's vars and the secrets, for a database source's URL and parameters. */
  connection?: ConnectionContext;
  /** A database source reads in one consistent snapshot (dry runs, the pre-run check; default true). */
  snapshot?: boolean;
  /** Where a database source's errors point. */
  location?: { file: string; cell: string; line: number };
}

/**
 * Opens the record source `spec` describes. Throws a UserError at once when a source file is
 * missing; problems inside the data arrive as `rejected` items, or as a UserError from iteration
 * when the source as a whole cannot be read (bad SQL, failing command, a JSON file that is no array).
 *
 * The stream can be iterated once; its `contentHash()` is available after reading to the end.
 */
export function openSource(spec: SourceSpec, options: OpenSourceOptions): RecordStream {
  switch (spec.type) {
    case 'inline':
      return inlineSource(spec.records, { firstLine: options.sourceLine, signal: options.signal });
    case 'command':
      return commandSource(spec.argv, { cwd: options.baseDir, env: options.env, signal: options.signal });
    case 'postgres':
      return postgresSource(spec, {
        context: options.connection ?? { env: {}, secrets: new SecretResolver({}) },
        snapshot: options.snapshot ?? true,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.location ? { location: options.location } : {}),
      });
    case 'sqlite': {
      const file = locateSourceFile(spec.path, options.baseDir);
      return sqliteSource(file.path, spec.query, { totalBytes: file.size, signal: options.signal });
    }
    default: {
      const file = locateSourceFile(spec.path, options.baseDir);
      const read = { totalBytes: file.size, signal: options.signal, chunkBytes: options.chunkBytes };
      if (spec.type === 'csv') return csvSource(file.path, spec.delimiter, read);
      if (spec.type === 'jsonl') return jsonlSource(file.path, read);
      return jsonArraySource(file.path, read);
    }
  }
}
