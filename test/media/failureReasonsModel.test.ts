import { strict as assert } from 'node:assert';
import { failureReasonsModel } from '../../media/renderer/failureReasonsModel';
import { runStatus } from './payloadFixtures';

describe('renderer failure reasons model', () => {
  it('lists the top reasons as the runner ranked them, with their counts and an example key', () => {
    const model = failureReasonsModel(
      runStatus({
        failures: [
          { reason: 'connection refused (127.0.0.1:9)', count: 1250, key: 'k01017' },
          { reason: 'HTTP 404 Not Found', count: 3, key: 'k00042' },
        ],
      }),
    );
    assert.equal(model.heading, 'Why records failed — top 2');
    assert.deepEqual(model.rows, [
      { reason: 'connection refused (127.0.0.1:9)', count: '1,250', example: 'e.g. k01017' },
      { reason: 'HTTP 404 Not Found', count: '3', example: 'e.g. k00042' },
    ]);
  });

  it('has no rows while nothing has failed, so the list stays hidden', () => {
    assert.deepEqual(failureReasonsModel(runStatus({ failures: undefined })).rows, []);
    assert.deepEqual(failureReasonsModel(runStatus({ failures: [] })).rows, []);
  });

  it("names a verification's failures as checks that could not be made", () => {
    const model = failureReasonsModel(
      runStatus({ mode: 'verify', failures: [{ reason: 'HTTP 500', count: 2, key: 'k7' }] }),
    );
    assert.equal(model.heading, 'Why records could not be checked — top 1');
  });

  it('skips entries that are not failure reasons (a status written by another version)', () => {
    const failures = [{ reason: 'HTTP 500', count: 2, key: 'k7' }, null, { reason: 5 }] as never;
    assert.deepEqual(failureReasonsModel(runStatus({ failures })).rows, [
      { reason: 'HTTP 500', count: '2', example: 'e.g. k7' },
    ]);
  });
});
