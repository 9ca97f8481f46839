import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSource } from '../../../src/core/sources/openSource';
import { UserError } from '../../../src/core/model/types';
import { collect, fixtures, sourceSpec, useTempDir } from './helpers';

describe('openSource', () => {
  const temp = useTempDir();

  it('refuses a missing file at once, naming the resolved path and the folder it is relative to', () => {
    const spec = sourceSpec({ type: 'csv', path: 'exports/missing.csv' });
    assert.throws(
      () => openSource(spec, { baseDir: fixtures }),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.equal(
          error.message,
          `record source not found: ${join(fixtures, 'exports/missing.csv')} (the source path "exports/missing.csv" ` +
            `is relative to the runbook's folder ${fixtures}; fix the path or create the file)`,
        );
        return true;
      },
    );
  });

  it('refuses a missing file for every file-based kind', () => {
    for (const spec of [
      sourceSpec({ type: 'jsonl', path: 'missing.jsonl' }),
      sourceSpec({ type: 'json', path: 'missing.json' }),
      sourceSpec({ type: 'sqlite', path: 'missing.db', query: 'SELECT 1' }),
    ]) {
      assert.throws(() => openSource(spec, { baseDir: fixtures }), /record source not found: .*missing\./);
    }
  });

  it('refuses a folder given as the source path', () => {
    mkdirSync(join(temp.path, 'exports'));
    assert.throws(
      () => openSource(sourceSpec({ type: 'jsonl', path: 'exports' }), { baseDir: temp.path }),
      /record source .*exports is not a file/,
    );
  });

  it('lets a stream be iterated only once', async () => {
    const stream = openSource(sourceSpec({ type: 'jsonl', path: 'people.jsonl' }), { baseDir: fixtures });
    await collect(stream);
    await assert.rejects(collect(stream), /can be iterated only once/);
  });

  it('gives no content hash before the stream was read to its end', async () => {
    const stream = openSource(sourceSpec({ type: 'jsonl', path: 'people.jsonl' }), { baseDir: fixtures });
    assert.throws(() => stream.contentHash(), /only known once the record stream was read to its end/);
    for await (const item of stream) if (item.line === 1) break;
    assert.throws(() => stream.contentHash(), /only known once the record stream was read to its end/);
  });

  it('stops reading a file with an AbortError when the signal aborts', async () => {
    const controller = new AbortController();
    const stream = openSource(sourceSpec({ type: 'csv', path: 'orders.csv', key: 'order_id' }), {
      baseDir: fixtures,
      signal: controller.signal,
      chunkBytes: 16,
    });
    const error = await (async () => {
      for await (const item of stream) if (item.line === 2) controller.abort();
    })().catch((caught: unknown) => caught);
    assert.equal((error as Error).name, 'AbortError');
  });
});
