import { strict as assert } from 'node:assert';
import {
  formatClock,
  formatCount,
  formatDuration,
  formatLatency,
  formatPercent,
  formatRate,
  revealInvisible,
  shortId,
} from '../../media/renderer/format';

describe('renderer formatting', () => {
  it('groups thousands and shows a dash for missing numbers', () => {
    assert.equal(formatCount(1234567), '1,234,567');
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(undefined), '–');
    assert.equal(formatCount(Number.NaN), '–');
  });

  it('gives rates a precision that suits their size', () => {
    assert.equal(formatRate(0), '0/s');
    assert.equal(formatRate(0.25), '0.25/s');
    assert.equal(formatRate(4.84), '4.8/s');
    assert.equal(formatRate(50), '50/s');
    assert.equal(formatRate(1250.4), '1,250/s');
  });

  it('never rounds an unfinished share up to 100 %', () => {
    assert.equal(formatPercent(9996, 10000), '99.9 %');
    assert.equal(formatPercent(10000, 10000), '100 %');
    assert.equal(formatPercent(500, 497), '100 %');
    assert.equal(formatPercent(1, 3), '33.3 %');
    assert.equal(formatPercent(5, 0), '–');
  });

  it('writes durations in the two largest units', () => {
    assert.equal(formatDuration(9.96), '10 s');
    assert.equal(formatDuration(754), '12 min 34 s');
    assert.equal(formatDuration(7300), '2 h 01 min');
    assert.equal(formatDuration(200_000), '2 d 07 h');
    assert.equal(formatDuration(undefined), '–');
    assert.equal(formatDuration(-1), '–');
  });

  it('shows latency in milliseconds below a second and seconds above', () => {
    assert.equal(formatLatency(84.4), '84 ms');
    assert.equal(formatLatency(1234), '1.2 s');
    assert.equal(formatLatency(45_000), '45 s');
  });

  it('shows a time of today without its date and another day with it', () => {
    const now = new Date(2026, 10, 26, 15, 0, 0);
    assert.equal(formatClock(new Date(2026, 10, 26, 14, 2, 9).toISOString(), now), '14:02:09');
    assert.equal(formatClock(new Date(2026, 10, 25, 9, 5, 0).toISOString(), now), '2026-11-25 09:05:00');
    assert.equal(formatClock('not a date', now), 'not a date');
  });

  it('shortens long identifiers', () => {
    assert.equal(shortId('0123456789abcdef0123'), '0123456789ab…');
    assert.equal(shortId('abc'), 'abc');
  });

  it('makes bidi overrides, zero-width and control characters visible but keeps newlines and tabs', () => {
    assert.equal(revealInvisible('evil\u202Etxt.exe'), 'evil\\u{202e}txt.exe');
    assert.equal(revealInvisible('a\u200Bb\u0000c'), 'a\\u{200b}b\\u{0000}c');
    assert.equal(revealInvisible('line 1\nline\t2'), 'line 1\nline\t2');
  });
});
