import assert from 'node:assert/strict';
import { openSource } from '../../../src/core/sources/openSource';
import type { LineStart } from '../../../src/core/sources/sourceSeek';
import type { SourceItem } from '../../../src/core/model/types';
import { collect, sourceSpec, useTempDir } from './helpers';

/** Reads the whole source noting a mark every `every` lines, then reads it again from each mark. */
async function readFromEveryMark(
  spec: Record<string, unknown>,
  dir: string,
  every: number,
  chunkBytes: number,
): Promise<{ full: SourceItem[]; marks: LineStart[]; tails: SourceItem[][] }> {
  const source = sourceSpec(spec);
  const marks: LineStart[] = [];
  const full = await collect(
    openSource(source, { baseDir: dir, chunkBytes, seek: { marks: { every, found: (m) => marks.push(m) } } }),
  );
  const tails: SourceItem[][] = [];
  for (const from of marks)
    tails.push(await collect(openSource(source, { baseDir: dir, chunkBytes, seek: { from } })));
  return { full, marks, tails };
}

describe('reading a file source from a recorded line start', () => {
  const dir = useTempDir();

  it('yields from each CSV mark exactly the items a full read yields from that line on', async () => {
    const rows = [
      'id,note',
      'a1,plain',
      'a2,"quoted, with comma"',
      'a3,"two',
      'lines"',
      '',
      'a4,é and 😀',
      'a5,"three',
      '',
      'lines"',
      'a6,bad"quote',
      'a7,x,extra',
      'a8,"a ""quoted"" word"',
      'a9,last',
    ];
    // A byte order mark, CRLF line breaks and a byte that is not UTF-8 (rejected, and longer once decoded).
    const bytes = Buffer.concat([
      Buffer.from('\uFEFF'),
      Buffer.from(rows.slice(0, 7).join('\r\n') + '\r\n'),
      Buffer.from([0x61, 0x31, 0x30, 0x2c, 0xff, 0x0a]),
      Buffer.from(rows.slice(7).join('\r\n')),
    ]);
    dir.write('seek.csv', bytes);
    const spec = { type: 'csv', path: 'seek.csv', fields: { id: 'string', note: 'string' } };
    for (const chunkBytes of [5, 13, 64 * 1024]) {
      for (const every of [1, 2, 3]) {
        const { full, marks, tails } = await readFromEveryMark(spec, dir.path, every, chunkBytes);
        assert.ok(full.length >= 10 && marks.length >= 3, `${full.length} items, ${marks.length} marks`);
        // Never inside a quoted field, never the header.
        for (const mark of marks) assert.ok(![1, 5, 10, 11].includes(mark.line), `mark at line ${mark.line}`);
        marks.forEach((mark, at) => {
          assert.deepEqual(
            tails[at],
            full.filter((item) => item.line >= mark.line),
            `from line ${mark.line} (byte ${mark.byte}), chunks of ${chunkBytes}`,
          );
          assert.equal(bytes[mark.byte - 1], 0x0a, 'a mark is at a line start');
        });
      }
    }
  });

  it('yields from each JSON Lines mark exactly the items a full read yields from that line on', async () => {
    const lines = ['{"id":"b1"}', '', '{"id":"b2","n":"é"}', 'not json', '{"id":"😀"}', '{"id":"b4"}'];
    const bytes = Buffer.from(lines.join('\n') + '\n');
    dir.write('seek.jsonl', bytes);
    const spec = { type: 'jsonl', path: 'seek.jsonl', fields: { id: 'string' } };
    for (const chunkBytes of [3, 64 * 1024]) {
      const { full, marks, tails } = await readFromEveryMark(spec, dir.path, 2, chunkBytes);
      assert.deepEqual(
        marks.map((mark) => mark.line),
        [2, 4, 6],
      );
      marks.forEach((mark, at) =>
        assert.deepEqual(
          tails[at],
          full.filter((item) => item.line >= mark.line),
        ),
      );
    }
  });

  it('has no content hash when read from the middle, so no gate can take a part for the whole', async () => {
    dir.write('half.jsonl', '{"id":"c1"}\n{"id":"c2"}\n');
    const stream = openSource(sourceSpec({ type: 'jsonl', path: 'half.jsonl', fields: { id: 'string' } }), {
      baseDir: dir.path,
      seek: { from: { line: 2, byte: 12 } },
    });
    assert.deepEqual(await collect(stream), [{ kind: 'record', line: 2, fields: { id: 'c2' } }]);
    assert.throws(() => stream.contentHash(), /no content hash/);
  });
});
