import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceSpec } from '../../../src/core/format/schemas';
import { SourceSchema } from '../../../src/core/format/schemas';
import type { RecordStream, SourceItem } from '../../../src/core/model/types';

/** The committed fixtures of the source tests. */
export const fixtures = join(__dirname, '../../fixtures/sources');

/** Reads a stream to its end. */
export async function collect(stream: RecordStream): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** Parses a source spec the way a runbook would, so defaults (delimiter, fields) apply. */
export function sourceSpec(spec: Record<string, unknown>): SourceSpec {
  return SourceSchema.parse({ key: 'id', ...spec });
}

/** A temporary folder removed after the current `describe` block. */
export function useTempDir(): { path: string; write(name: string, content: string | Uint8Array): string } {
  const dir = {
    path: '',
    write: (name: string, content: string | Uint8Array) => writeIn(dir.path, name, content),
  };
  before(() => {
    dir.path = mkdtempSync(join(tmpdir(), 'backfill-sources-'));
  });
  after(() => rmSync(dir.path, { recursive: true, force: true }));
  return dir;
}

function writeIn(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Items without their record fields: lines and reasons in one comparable list. */
export function outline(items: SourceItem[]): string[] {
  return items.map((item) =>
    item.kind === 'record' ? `${item.line} record` : `${item.line} rejected: ${item.reason}`,
  );
}
