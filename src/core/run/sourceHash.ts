import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { SourceSpec } from '../format/schemas';
import { openSource, type OpenSourceOptions } from '../sources/openSource';
import { locateSourceFile } from '../sources/sourceFile';

/**
 * The content hash of a source before a run starts, equal to what a dry run's stream computes after
 * reading it: idempotency keys and the production gate need it before the first record is sent. Files
 * are hashed as raw bytes (no parsing, so a resume starts fast); other sources are read through their
 * stream once.
 */
export async function sourceContentHash(spec: SourceSpec, options: OpenSourceOptions): Promise<string> {
  if (spec.type === 'inline' || spec.type === 'command' || spec.type === 'postgres') {
    const stream = openSource(spec, options);
    for await (const item of stream) void item; // reading to the end is what computes the hash
    return stream.contentHash();
  }
  const file = locateSourceFile(spec.path, options.baseDir);
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file.path, { signal: options.signal }))
    hash.update(chunk as Buffer);
  if (spec.type === 'sqlite') hash.update('\0').update(spec.query);
  return hash.digest('hex');
}
