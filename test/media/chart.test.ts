import { strict as assert } from 'node:assert';
import {
  chartGeometry,
  placeMarks,
  downsample,
  MAX_CHART_POINTS,
  niceCeiling,
  sampleTime,
  toChartPoints,
} from '../../media/renderer/chart';
import type { ProgressSample } from '../../media/renderer/payloads';

const START = Date.UTC(2026, 10, 26, 12, 0, 0);

function sample(second: number, rate: number, failed = 0): ProgressSample {
  return { t: START + second * 1000, done: second * 10, succeeded: second * 10 - failed, failed, rate };
}

describe('renderer chart geometry', () => {
  it('draws nothing before the first sample', () => {
    const geometry = chartGeometry([], { width: 600, height: 120 });
    assert.equal(geometry.empty, true);
    assert.equal(geometry.rateLine, '');
  });

  it('maps time to x and rate to y, with the top at a round maximum', () => {
    const geometry = chartGeometry([sample(0, 0), sample(5, 40), sample(10, 20)], {
      width: 600,
      height: 100,
    });
    assert.equal(geometry.yMax, 40);
    assert.equal(geometry.spanSeconds, 10);
    assert.equal(geometry.rateLine, 'M0 100 L300 0 L600 50');
    assert.equal(geometry.rateArea, 'M0 100 L300 0 L600 50 L600 100 L0 100 Z');
    assert.deepEqual(geometry.gridLines, [25, 50, 75]);
  });

  it('draws a single sample as a level line across the chart', () => {
    const geometry = chartGeometry([sample(0, 10)], { width: 600, height: 100 });
    assert.equal(geometry.rateLine, 'M0 0 L600 0');
  });

  it('derives errors per second from the growth of the failed count', () => {
    const points = toChartPoints([sample(0, 10, 0), sample(2, 10, 6), sample(4, 10, 6)]);
    assert.deepEqual(
      points.map((p) => p.errorRate),
      [0, 3, 0],
    );
  });

  it('ignores a failed count that goes down and samples without a usable time', () => {
    const points = toChartPoints([
      sample(0, 10, 5),
      { t: 'garbage', done: 0, succeeded: 0, failed: 0, rate: 1 },
      sample(1, 10, 2),
    ]);
    assert.equal(points.length, 2);
    assert.equal(points[1]?.errorRate, 0);
  });

  it('reads epoch seconds, as the extension sends them, like epoch milliseconds', () => {
    assert.equal(sampleTime(1_795_000_000), 1_795_000_000_000);
    assert.equal(sampleTime(1_795_000_000_000), 1_795_000_000_000);
    assert.equal(sampleTime(Number.NaN), undefined);
  });

  it('accepts ISO times as well as epoch milliseconds', () => {
    const points = toChartPoints([
      { t: new Date(START).toISOString(), done: 0, succeeded: 0, failed: 0, rate: 1 },
      { t: new Date(START + 3000).toISOString(), done: 3, succeeded: 3, failed: 0, rate: 1 },
    ]);
    assert.equal(points[1]?.seconds, 3);
  });

  it('leaves the error band out when nothing failed', () => {
    const geometry = chartGeometry([sample(0, 5), sample(1, 5)], { width: 100, height: 10 });
    assert.equal(geometry.errorArea, '');
  });

  it('keeps a ten-hour run to a bounded number of points', () => {
    const history = Array.from({ length: 36_000 }, (_, second) =>
      sample(second, 50, Math.floor(second / 10)),
    );
    const geometry = chartGeometry(history, { width: 600, height: 100 });
    const segments = geometry.rateLine.split(' L').length;
    assert.ok(segments <= MAX_CHART_POINTS, `${segments} points`);
    assert.equal(geometry.spanSeconds, 35_999);
  });

  it('averages merged points so a short spike still shows', () => {
    const points = Array.from({ length: 10 }, (_, i) => ({
      seconds: i,
      rate: i === 3 ? 100 : 0,
      errorRate: 0,
    }));
    const merged = downsample(points, 5);
    assert.equal(merged.length, 5);
    assert.deepEqual(
      merged.map((p) => p.rate),
      [0, 50, 0, 0, 0],
    );
    assert.deepEqual(
      merged.map((p) => p.seconds),
      [1, 3, 5, 7, 9],
    );
  });

  it('rounds the axis maximum up to a round number close above the highest value', () => {
    assert.equal(niceCeiling(0), 1);
    assert.equal(niceCeiling(0.24), 0.25);
    assert.equal(niceCeiling(7), 8);
    assert.equal(niceCeiling(48), 50);
    assert.equal(niceCeiling(50), 50);
    assert.equal(niceCeiling(52), 60);
    assert.equal(niceCeiling(120), 150);
    assert.equal(niceCeiling(2400), 2500);
    assert.equal(niceCeiling(9000), 10_000);
  });

  it('places marks on the time axis and leaves out those outside the kept history', () => {
    const history = [sample(0, 5), sample(10, 5), sample(20, 5)];
    const at = (second: number) => START + second * 1000;
    const placed = placeMarks(
      [
        { t: at(-5), kind: 'paused', label: 'before the history' },
        { t: at(5), kind: 'paused', label: 'paused' },
        { t: at(20), kind: 'resumed', label: 'resumed' },
        { t: 'not a time', kind: 'rate', label: 'unreadable' },
      ],
      history,
      600,
    );
    assert.deepEqual(
      placed.map((mark) => [mark.x, mark.kind, mark.label]),
      [
        [150, 'paused', 'paused'],
        [600, 'resumed', 'resumed'],
      ],
    );
  });
});
