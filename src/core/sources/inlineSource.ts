/** Inline record source: a short list of records written in the runbook itself. */
import type { RecordStream } from '../model/types';
import { canonicalJson } from './canonicalJson';
import { createRecordStream } from './recordStream';
import { z } from 'zod';
import { hashByReading } from './recordStream';
import { sourceCommon } from './sourceFields';
import type { SourceKind } from './sourceKind';

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

const inlineSourceSchema = z.strictObject({
  type: z.literal('inline'),
  records: z.array(z.record(z.string(), z.unknown())),
  ...sourceCommon,
});

/** The inline source kind: records written in the runbook, hashed as their canonical JSON. */
export const inlineSourceKind: SourceKind<typeof inlineSourceSchema> = {
  type: 'inline',
  schema: inlineSourceSchema,
  open: (spec, options) =>
    inlineSource(spec.records, { firstLine: options.sourceLine, signal: options.signal }),
  contentHash: (spec, options) => hashByReading(inlineSourceKind.open(spec, options)),
  describe: (spec) => spec.type,
  fieldHelp: { records: 'The records themselves (inline source).' },
};
