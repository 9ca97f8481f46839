/** Inline record source: a short list of records written in the runbook itself. */
import type { RecordStream } from '../types';
import { canonicalJson } from './canonicalJson';
import { createRecordStream } from './recordStream';

/**
 * Yields `records` in order. With `firstLine` (the runbook line of the first record) each record's
 * line is `firstLine + index`; without it, records are numbered from 1.
 */
export function inlineSource(
  records: readonly Record<string, unknown>[],
  options: { firstLine?: number; signal?: AbortSignal } = {},
): RecordStream {
  const text = canonicalJson(records);
  return createRecordStream(async function* (tap) {
    tap.update(text);
    const start = options.firstLine ?? 1;
    for (const [index, fields] of records.entries()) {
      options.signal?.throwIfAborted();
      yield { kind: 'record', line: start + index, fields };
    }
  }, Buffer.byteLength(text));
}
