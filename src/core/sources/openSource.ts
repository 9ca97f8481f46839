/** The one entry point for reading a job's records, whatever kind of source the runbook declares. */
import type { RecordStream } from '../model/types';
import type { OpenSourceOptions } from './sourceKind';
import { sourceKindOf, type SourceSpec } from './sourceKinds';

export type { OpenSourceOptions } from './sourceKind';

/**
 * Opens the record source `spec` describes. Throws a UserError at once when a source file is
 * missing; problems inside the data arrive as `rejected` items, or as a UserError from iteration
 * when the source as a whole cannot be read (bad SQL, failing command, a JSON file that is no array).
 *
 * The stream can be iterated once; its `contentHash()` is available after reading to the end.
 */
export function openSource(spec: SourceSpec, options: OpenSourceOptions): RecordStream {
  return sourceKindOf(spec).open(spec, options);
}
