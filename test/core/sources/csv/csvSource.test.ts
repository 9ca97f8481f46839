import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSource } from '../../../../src/core/sources/openSource';
import { collect, fixtures, outline, sourceSpec, useTempDir } from '../helpers';

const orders = sourceSpec({ type: 'csv', path: 'orders.csv', key: 'order_id' });

describe('csvSource', () => {
  const temp = useTempDir();

  async function readCsv(content: string, extra: Record<string, unknown> = {}) {
    temp.write('data.csv', content);
    return collect(
      openSource(sourceSpec({ type: 'csv', path: 'data.csv', ...extra }), { baseDir: temp.path }),
    );
  }

  it('reports every row of the fixture at the line it starts on, rejecting the malformed ones', async () => {
    const items = await collect(openSource(orders, { baseDir: fixtures }));
    assert.deepEqual(outline(items), [
      '2 record',
      '3 record',
      '4 record',
      '6 rejected: expected 3 fields as in the header, got 2',
      '8 rejected: expected 3 fields as in the header, got 4',
      '9 rejected: broken quoting in field 2 ("customer"): a closing quote must be followed by "," or the end of the line, got "x"',
      '10 rejected: broken quoting in field 2 ("customer"): a quote inside an unquoted field (quote the whole field and double inner quotes)',
      '11 record',
      '12 rejected: broken quoting in field 2 ("customer"): the quoted field is never closed; reading resumes on line 13',
      '13 record',
    ]);
  });

  it('keeps values as strings and strips the byte order mark from the first column name', async () => {
    const [first] = await collect(openSource(orders, { baseDir: fixtures }));
    assert.deepEqual(first, {
      kind: 'record',
      line: 2,
      fields: { order_id: '1', customer: 'Ada', amount: '12.50' },
    });
  });

  it('unquotes fields holding the delimiter, doubled quotes and a line break', async () => {
    const items = await collect(openSource(orders, { baseDir: fixtures }));
    const fields = items.filter((item) => item.kind === 'record').map((item) => item.fields.customer);
    assert.deepEqual(fields.slice(1, 3), ['Lovelace, Ada', 'multi\nline "quoted" Zoë']);
  });

  it('reads the same items when the file arrives in chunks of three bytes', async () => {
    const whole = await collect(openSource(orders, { baseDir: fixtures }));
    const chunked = await collect(openSource(orders, { baseDir: fixtures, chunkBytes: 3 }));
    assert.deepEqual(chunked, whole);
  });

  it('hashes exactly the bytes of the file and counts them for progress', async () => {
    const stream = openSource(orders, { baseDir: fixtures });
    await collect(stream);
    const bytes = readFileSync(join(fixtures, 'orders.csv'));
    assert.equal(stream.contentHash(), createHash('sha256').update(bytes).digest('hex'));
    assert.equal(stream.bytesRead(), bytes.length);
    assert.equal(stream.totalBytes(), bytes.length);
  });

  it('splits on the declared delimiter', async () => {
    const items = await readCsv('id;name\n1;a,b\n', { delimiter: ';' });
    assert.deepEqual(items, [{ kind: 'record', line: 2, fields: { id: '1', name: 'a,b' } }]);
  });

  it('reads an empty last field after a trailing delimiter and empty quoted fields', async () => {
    const items = await readCsv('id,a,b\n1,"",\n');
    assert.deepEqual(items, [{ kind: 'record', line: 2, fields: { id: '1', a: '', b: '' } }]);
  });

  it('reads a last row that has no line break', async () => {
    assert.deepEqual(outline(await readCsv('id\n1\n2')), ['2 record', '3 record']);
  });

  it('rejects a row whose quoted field is broken on a later line at the line the row starts', async () => {
    const items = await readCsv('id,note\n1,"two\nlines"x\n2,ok\n');
    assert.deepEqual(outline(items), [
      '2 rejected: broken quoting in field 2 ("note") on line 3: a closing quote must be followed by "," or the end of the line, got "x"',
      '4 record',
    ]);
  });

  it('takes an overlong quoted field for an unclosed quote and rereads the lines after it', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `${i + 1},${'x'.repeat(600)}`);
    const items = await readCsv(`id,note\n0,"open\n${rows.join('\n')}\n`);
    assert.equal(
      outline(items)[0],
      '2 rejected: broken quoting in field 2 ("note"): the quoted field runs past 1048576 characters; reading resumes on line 3',
    );
    assert.deepEqual(
      outline(items.slice(1)),
      rows.map((_, i) => `${i + 3} record`),
    );
  });

  it('rejects a row holding bytes that are not UTF-8 rather than mangling its values', async () => {
    temp.write(
      'latin1.csv',
      Buffer.concat([Buffer.from('id,name\n1,Zo'), Buffer.from([0xeb]), Buffer.from('\n2,ok\n')]),
    );
    const items = await collect(
      openSource(sourceSpec({ type: 'csv', path: 'latin1.csv' }), { baseDir: temp.path }),
    );
    assert.deepEqual(outline(items), [
      '2 rejected: not valid UTF-8 (or contains U+FFFD): convert the source file to UTF-8',
      '3 record',
    ]);
  });

  it('gives no records for a file with only a header, or an empty file', async () => {
    assert.deepEqual(await readCsv('id,name\n'), []);
    assert.deepEqual(await readCsv(''), []);
  });

  it('trims spaces around column names in the header', async () => {
    const items = await readCsv('id, name\n1, Ada\n');
    assert.deepEqual(items, [{ kind: 'record', line: 2, fields: { id: '1', name: ' Ada' } }]);
  });

  it('refuses a header that names a column twice', async () => {
    await assert.rejects(
      readCsv('id,name,name\n1,a,b\n'),
      /data\.csv:1: the header names the column "name" twice/,
    );
  });

  it('refuses a header with an unnamed column', async () => {
    await assert.rejects(readCsv('id,,name\n'), /data\.csv:1: the header leaves column 2 without a name/);
  });

  it('keeps a column named __proto__ as a plain field', async () => {
    const [item] = await readCsv('id,__proto__\n1,x\n');
    assert.ok(item?.kind === 'record');
    assert.equal(Object.getPrototypeOf(item.fields), Object.prototype);
    assert.deepEqual(Object.keys(item.fields), ['id', '__proto__']);
  });
});
