import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasMoreLinesThan } from '../../../src/core/sources/sourceFile';

describe('hasMoreLinesThan', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-lines-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const file = (text: string | Buffer) => {
    const written = path.join(dir, 'source.csv');
    fs.writeFileSync(written, text);
    return written;
  };

  it('counts line breaks: a last line without one is not counted', () => {
    const three = file('id\n1\n2\n3');
    assert.equal(hasMoreLinesThan(three, 2), true);
    assert.equal(hasMoreLinesThan(three, 3), false);
    assert.equal(hasMoreLinesThan(file(''), 0), false);
  });

  it('counts across the chunks it reads, a megabyte at a time', () => {
    // 1.5 million lines of one byte and its line break: three megabytes, line breaks on chunk edges.
    const big = file(Buffer.from('x\n'.repeat(1_500_000)));
    assert.equal(hasMoreLinesThan(big, 1_499_999), true);
    assert.equal(hasMoreLinesThan(big, 1_500_000), false);
  });
});
