import assert from 'node:assert/strict';
import { openSource } from '../../../src/core/sources/openSource';
import { collect, fixtures, outline, sourceSpec, useTempDir } from './helpers';

const people = sourceSpec({ type: 'jsonl', path: 'people.jsonl' });

describe('jsonlSource', () => {
  const temp = useTempDir();

  it('reads one object per line, skips blank lines and rejects lines that are not JSON objects', async () => {
    const items = await collect(openSource(people, { baseDir: fixtures }));
    assert.deepEqual(outline(items), [
      '1 record',
      '3 rejected: invalid JSON: Unexpected end of JSON input',
      '4 rejected: expected a JSON object, got array',
      '5 rejected: expected a JSON object, got string',
      '6 record',
      '7 rejected: expected a JSON object, got null',
    ]);
  });

  it('keeps JSON types and reads a CRLF line holding multi-byte characters', async () => {
    const items = await collect(openSource(people, { baseDir: fixtures }));
    assert.deepEqual(items[4], { kind: 'record', line: 6, fields: { id: 3, name: 'Zoë' } });
  });

  it('reads the same items when the file arrives in chunks of three bytes', async () => {
    const whole = await collect(openSource(people, { baseDir: fixtures }));
    assert.deepEqual(await collect(openSource(people, { baseDir: fixtures, chunkBytes: 3 })), whole);
  });

  it('rejects a line holding bytes that are not UTF-8', async () => {
    temp.write(
      'latin1.jsonl',
      Buffer.concat([Buffer.from('{"id": "Zo'), Buffer.from([0xeb]), Buffer.from('"}\n{"id": 2}\n')]),
    );
    const items = await collect(
      openSource(sourceSpec({ type: 'jsonl', path: 'latin1.jsonl' }), { baseDir: temp.path }),
    );
    assert.deepEqual(outline(items), [
      '1 rejected: not valid UTF-8 (or contains U+FFFD): convert the source file to UTF-8',
      '2 record',
    ]);
  });

  it('ignores a byte order mark at the start of the file', async () => {
    temp.write('bom.jsonl', '\uFEFF{"id": 1}\n');
    const items = await collect(
      openSource(sourceSpec({ type: 'jsonl', path: 'bom.jsonl' }), { baseDir: temp.path }),
    );
    assert.deepEqual(items, [{ kind: 'record', line: 1, fields: { id: 1 } }]);
  });
});
