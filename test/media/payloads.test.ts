import { strict as assert } from 'node:assert';
import { MIME, parsePayload } from '../../media/renderer/payloads';
import { demoDryRun, progressPayload } from './payloadFixtures';

describe('renderer payloads', () => {
  it('accepts each payload under its mime type', () => {
    assert.equal((parsePayload(MIME.dryRun, demoDryRun()) as { mime: string }).mime, MIME.dryRun);
    assert.equal((parsePayload(MIME.progress, progressPayload()) as { mime: string }).mime, MIME.progress);
  });

  it('refuses a payload of the wrong shape with a message instead of drawing half a view', () => {
    assert.deepEqual(parsePayload(MIME.dryRun, { counts: {} }), {
      error: 'a dry-run report needs counts and preview',
    });
    assert.deepEqual(parsePayload(MIME.progress, []), {
      error: `expected a JSON object for ${MIME.progress}`,
    });
    assert.deepEqual(parsePayload('application/x-other', {}), { error: 'no view for application/x-other' });
  });

  it('treats a progress payload without history as one with an empty history', () => {
    const parsed = parsePayload(MIME.progress, { status: progressPayload().status });
    assert.ok('payload' in parsed && 'history' in parsed.payload);
    assert.deepEqual(parsed.payload.history, []);
  });
});
