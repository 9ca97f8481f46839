import assert from 'node:assert/strict';
import { openSource } from '../../../src/core/sources/openSource';
import { collect, sourceSpec } from './helpers';

describe('inlineSource', () => {
  const spec = sourceSpec({ type: 'inline', records: [{ id: 'a', n: 1 }, { id: 'b' }] });

  it('numbers records from the runbook line of the first one', async () => {
    const items = await collect(openSource(spec, { baseDir: '.', sourceLine: 40 }));
    assert.deepEqual(items, [
      { kind: 'record', line: 40, fields: { id: 'a', n: 1 } },
      { kind: 'record', line: 41, fields: { id: 'b' } },
    ]);
  });

  it('numbers records from 1 when their runbook line is unknown', async () => {
    const items = await collect(openSource(spec, { baseDir: '.' }));
    assert.deepEqual(
      items.map((item) => item.line),
      [1, 2],
    );
  });

  it('hashes the records independently of the order their keys are written in', async () => {
    const hashOf = async (records: Record<string, unknown>[]) => {
      const stream = openSource(sourceSpec({ type: 'inline', records }), { baseDir: '.' });
      await collect(stream);
      return stream.contentHash();
    };
    const hash = await hashOf([{ id: 'a', meta: { x: 1, y: 2 } }]);
    assert.equal(await hashOf([{ meta: { y: 2, x: 1 }, id: 'a' }]), hash);
    assert.notEqual(await hashOf([{ id: 'a', meta: { x: 1, y: 3 } }]), hash);
  });
});
