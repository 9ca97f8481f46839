import { strict as assert } from 'node:assert';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../../../src/core/actions/http/retryAfter';

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');

  it('reads delay-seconds as milliseconds', () => {
    assert.equal(parseRetryAfter('2', now), 2000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
  });

  it('reads an HTTP date as the time left until it', () => {
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 12:00:30 GMT', now), 30_000);
  });

  it('reads a date in the past as no wait at all', () => {
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', now), 0);
  });

  it('caps a very long wait at ten minutes', () => {
    assert.equal(parseRetryAfter('86400', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('Fri, 02 Jan 2026 12:00:00 GMT', now), MAX_RETRY_AFTER_MS);
    assert.equal(MAX_RETRY_AFTER_MS, 600_000);
  });

  it('ignores an absent or unreadable value', () => {
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-5', now), undefined);
    assert.equal(parseRetryAfter('1.5', now), undefined);
    assert.equal(parseRetryAfter('2026-01-02', now), undefined);
  });
});
