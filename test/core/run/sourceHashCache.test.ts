import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedSourceHash } from '../../../src/core/run/sourceHashCache';
import { SourceSchema } from '../../../src/core/format/schemas';

const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('the content hash of a file source kept between runs', () => {
  let dir = '';
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'source-hash-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const spec = SourceSchema.parse({ type: 'csv', path: 'r.csv', key: 'id', fields: { id: 'string' } });
  const cacheFile = () => path.join(dir, 'source-hash.json');

  it('is taken from the cache while the file is the one hashed, and read again once a byte changed', async () => {
    const file = path.join(dir, 'r.csv');
    fs.writeFileSync(file, 'id\na1\n');
    // A file changed just now is hashed but not kept: a write in the same clock tick could go unseen.
    assert.equal(await cachedSourceHash(spec, { baseDir: dir }, dir), sha256('id\na1\n'));
    assert.equal(fs.existsSync(cacheFile()), false);
    // The cache says what the file held when it was hashed; a planted hash shows the file was not read.
    const stats = fs.statSync(file, { bigint: true });
    const identity = [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].join(':');
    fs.writeFileSync(cacheFile(), JSON.stringify({ version: 1, path: file, identity, hash: 'planted' }));
    assert.equal(await cachedSourceHash(spec, { baseDir: dir }, dir), 'planted');
    // The same length, the old modification time put back: the status-change time still moved.
    const before = fs.statSync(file);
    fs.writeFileSync(file, 'id\na2\n');
    fs.utimesSync(file, before.atime, before.mtime);
    assert.equal(await cachedSourceHash(spec, { baseDir: dir }, dir), sha256('id\na2\n'));
  });

  it('keeps the hash of a file that settled before it was hashed', async () => {
    const file = path.join(dir, 'r.csv');
    fs.writeFileSync(file, 'id\na1\n');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    assert.equal(await cachedSourceHash(spec, { baseDir: dir }, dir), sha256('id\na1\n'));
    const cached = JSON.parse(fs.readFileSync(cacheFile(), 'utf8')) as { hash: string; path: string };
    assert.deepEqual([cached.hash, cached.path], [sha256('id\na1\n'), file]);
  });
});
