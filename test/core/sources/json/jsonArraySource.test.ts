import assert from 'node:assert/strict';
import { appendFileSync, truncateSync } from 'node:fs';
import {
  ELEMENT_TOO_LONG_REASON,
  JsonArrayScanner,
  MAX_ELEMENT_CHARS,
} from '../../../../src/core/sources/json/jsonArrayScanner';
import { openSource } from '../../../../src/core/sources/openSource';
import { UserError } from '../../../../src/core/model/types';
import { collect, fixtures, outline, sourceSpec, useTempDir } from '../helpers';

const records = sourceSpec({ type: 'json', path: 'records.json' });

describe('jsonArraySource', () => {
  const temp = useTempDir();

  async function readJson(content: string) {
    temp.write('data.json', content);
    return collect(openSource(sourceSpec({ type: 'json', path: 'data.json' }), { baseDir: temp.path }));
  }

  it('reads each element at the line it starts on and rejects the malformed ones while reading on', async () => {
    const items = await collect(openSource(records, { baseDir: fixtures }));
    assert.deepEqual(outline(items), [
      '2 record',
      '3 record',
      `4 rejected: invalid JSON: Unexpected token '}', "{"id": 3, "name": }" is not valid JSON`,
      '5 rejected: expected a JSON object, got number',
      '6 record',
    ]);
  });

  it('is not misled by brackets and escaped quotes inside strings', async () => {
    const items = await collect(openSource(records, { baseDir: fixtures }));
    assert.deepEqual(items[1], {
      kind: 'record',
      line: 3,
      fields: { id: 2, name: 'has ] and } and " inside', tags: ['a', 'b'] },
    });
    assert.deepEqual(items[4], {
      kind: 'record',
      line: 6,
      fields: { id: 4, nested: { deep: [1, { x: 'Zoë' }] } },
    });
  });

  it('reads the same items when the file arrives in chunks of three bytes', async () => {
    const whole = await collect(openSource(records, { baseDir: fixtures }));
    assert.deepEqual(await collect(openSource(records, { baseDir: fixtures, chunkBytes: 3 })), whole);
  });

  it('rejects the element a truncated file ends inside, after the complete ones', async () => {
    const items = await collect(
      openSource(sourceSpec({ type: 'json', path: 'truncated.json' }), { baseDir: fixtures }),
    );
    assert.deepEqual(outline(items), [
      '2 record',
      '3 rejected: the file ends inside this element; its brackets or quotes never close (truncated file?)',
    ]);
  });

  it('rejects an element longer than 16 MiB with its line and reads the records after it', async () => {
    const path = temp.write('long.json', `[{"id": 1},\n{"id": 2, "blob": "`);
    appendFileSync(path, 'x'.repeat(MAX_ELEMENT_CHARS));
    appendFileSync(path, '"},\n{"id": 3}]\n');
    const items = await collect(
      openSource(sourceSpec({ type: 'json', path: 'long.json' }), { baseDir: temp.path }),
    );
    assert.deepEqual(outline(items), ['1 record', `2 rejected: ${ELEMENT_TOO_LONG_REASON}`, '3 record']);
  });

  it('reads past a sparse tail of NUL bytes after the first element without holding it (one rejected element)', async () => {
    const path = temp.write('sparse.json', '[{"id": "a1", "amount": 1},');
    truncateSync(path, MAX_ELEMENT_CHARS + 64);
    const items = await collect(
      openSource(sourceSpec({ type: 'json', path: 'sparse.json' }), { baseDir: temp.path }),
    );
    assert.deepEqual(outline(items), [
      '1 record',
      `1 rejected: ${ELEMENT_TOO_LONG_REASON}; the file ends inside it`,
    ]);
  });

  it('rejects an array that is never closed', async () => {
    assert.deepEqual(outline(await readJson('[{"id": 1},\n')), [
      '1 record',
      '2 rejected: the file ends before the array is closed (truncated file?)',
    ]);
  });

  it('refuses a file holding an object instead of an array, pointing at jsonl', async () => {
    const error = await collect(
      openSource(sourceSpec({ type: 'json', path: 'not-an-array.json' }), { baseDir: fixtures }),
    )
      .then(() => undefined)
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof UserError);
    assert.match(
      error.message,
      /not-an-array\.json:2: expected a JSON array of records, found "\{" \(for one record per line use the "jsonl" source type\)$/,
    );
    assert.equal(error.issues[0]?.line, 2);
  });

  it('refuses an empty file', async () => {
    await assert.rejects(
      readJson('  \n'),
      /data\.json:2: the file is empty; expected a JSON array of records/,
    );
  });

  it('reads an empty array as no records', async () => {
    assert.deepEqual(await readJson(' [ ]\n'), []);
  });

  it('rejects empty elements left by stray commas and content after the array', async () => {
    assert.deepEqual(outline(await readJson('[\n,{"id": 1},\n{"id": 2},\n]\n[]')), [
      '2 rejected: empty array element (a stray comma?)',
      '2 record',
      '3 record',
      '4 rejected: empty array element (a stray comma?)',
      '5 rejected: unexpected content after the end of the array',
    ]);
  });
});

describe('JsonArrayScanner', () => {
  it('drops an element that grows past 16 MiB across chunks, then splits the next one as usual', () => {
    const scanner = new JsonArrayScanner();
    const chunk = 'y'.repeat(1024 * 1024);
    const pieces = scanner.push('[\n"');
    for (let i = 0; i < 16; i++) pieces.push(...scanner.push(chunk));
    pieces.push(...scanner.push('z", 5]'));
    assert.deepEqual(
      [...pieces, ...scanner.end()],
      [
        { kind: 'problem', line: 2, message: ELEMENT_TOO_LONG_REASON },
        { kind: 'element', line: 2, text: '5' },
      ],
    );
  });

  it('splits elements that arrive split across chunks, keeping their starting lines', () => {
    const scanner = new JsonArrayScanner();
    const pieces = ['[{"a": "x\\', '"y"}', ',\n 7', '3, "s]"]'].flatMap((chunk) => scanner.push(chunk));
    assert.deepEqual(
      [...pieces, ...scanner.end()],
      [
        { kind: 'element', line: 1, text: '{"a": "x\\"y"}' },
        { kind: 'element', line: 2, text: '73' },
        { kind: 'element', line: 2, text: '"s]"' },
      ],
    );
  });
});
