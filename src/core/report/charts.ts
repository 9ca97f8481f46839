/**
 * Inline SVG charts of a run's time series: throughput (records per second, good and bad stacked) and
 * failures per bucket. Plain shapes and text, no script, no external font: they render the same in a
 * browser, in print, and in a PDF. Failures are drawn hatched as well as red, so they stay distinct on a
 * black-and-white printer.
 */
import { markup, type SafeHtml } from './html';
import { formatNumber, humanDuration } from './text';
import { badRatePerBucket, ratePerBucket, type TimeSeries } from './timeSeries';

const WIDTH = 680;
const MARGIN = { left: 52, right: 12, top: 12, bottom: 28 };
const GOOD_COLOR = '#2f5f8a';
const BAD_COLOR = '#c0392b';
const GRID_COLOR = '#d7dbe0';
const TEXT_COLOR = '#444';
/** Grid lines divide the axis in fifths. */
const GRID_STEPS = 5;

interface ChartSpec {
  id: string;
  height: number;
  /** One stacked bar per bucket: [good part, bad part] in the chart's unit. */
  bars: [number, number][];
  unit: string;
  label: string;
  series: TimeSeries;
  /** Counts of records: grid lines at whole numbers only. */
  whole?: boolean;
}

/** Records per second over the run, successes and failures stacked. */
export function rateChart(id: string, series: TimeSeries): SafeHtml {
  const total = ratePerBucket(series);
  const bad = badRatePerBucket(series);
  const bars = total.map((rate, index): [number, number] => [rate - bad[index]!, bad[index]!]);
  const peak = Math.max(0, ...total);
  return chart({
    id,
    height: 190,
    bars,
    unit: '/s',
    label: `Throughput: peak ${formatNumber(peak)} records per second`,
    series,
  });
}

/** Records that ended badly (failed, mismatch…) in each bucket. */
export function failureChart(id: string, series: TimeSeries): SafeHtml {
  const bars = series.buckets.map((bucket): [number, number] => [0, bucket.bad]);
  const failures = series.buckets.reduce((sum, bucket) => sum + bucket.bad, 0);
  return chart({
    id,
    height: 130,
    bars,
    unit: '',
    label: `Failures: ${formatNumber(failures)} records`,
    series,
    whole: true,
  });
}

function chart(spec: ChartSpec): SafeHtml {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = spec.height - MARGIN.top - MARGIN.bottom;
  const highest = Math.max(0, ...spec.bars.map(([good, bad]) => good + bad));
  // Whole counts need a maximum divisible by the grid steps, so every grid line is a whole number.
  const maximum = spec.whole
    ? Math.max(GRID_STEPS, Math.ceil(highest / GRID_STEPS) * GRID_STEPS)
    : niceCeiling(highest);
  const y = (value: number) => MARGIN.top + plotHeight - (value / maximum) * plotHeight;
  const slot = plotWidth / Math.max(1, spec.bars.length);
  const barWidth = Math.max(1, slot * 0.8);
  const hatch = `hatch-${spec.id}`;
  return markup`<svg
    class="chart"
    viewBox="0 0 ${WIDTH} ${spec.height}"
    width="100%"
    role="img"
    aria-label="${spec.label}"
    xmlns="http://www.w3.org/2000/svg"
  >
    <defs>
      <pattern id="${hatch}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
        <rect width="6" height="6" fill="${BAD_COLOR}" />
        <line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2" />
      </pattern>
    </defs>
    ${gridLines(maximum, y, spec.unit)}
    ${spec.bars.map(([good, bad], index) => {
      const x = MARGIN.left + index * slot + (slot - barWidth) / 2;
      return markup`${good > 0 ? markup`<rect x="${fixed(x)}" y="${fixed(y(good))}" width="${fixed(barWidth)}" height="${fixed(y(0) - y(good))}" fill="${GOOD_COLOR}" />` : ''}${bad > 0 ? markup`<rect x="${fixed(x)}" y="${fixed(y(good + bad))}" width="${fixed(barWidth)}" height="${fixed(y(good) - y(good + bad))}" fill="url(#${hatch})" stroke="${BAD_COLOR}" stroke-width="0.5" />` : ''}`;
    })}
    <line
      x1="${MARGIN.left}"
      y1="${fixed(y(0))}"
      x2="${WIDTH - MARGIN.right}"
      y2="${fixed(y(0))}"
      stroke="${TEXT_COLOR}"
      stroke-width="1"
    />
    ${timeTicks(spec.series, slot, spec.height)}
  </svg>`;
}

function gridLines(maximum: number, y: (value: number) => number, unit: string): SafeHtml[] {
  return Array.from({ length: GRID_STEPS + 1 }, (_, step) => {
    const value = (maximum * step) / GRID_STEPS;
    return markup`<line
        x1="${MARGIN.left}"
        y1="${fixed(y(value))}"
        x2="${WIDTH - MARGIN.right}"
        y2="${fixed(y(value))}"
        stroke="${GRID_COLOR}"
        stroke-width="1"
      /><text
        x="${MARGIN.left - 6}"
        y="${fixed(y(value) + 4)}"
        text-anchor="end"
        font-size="11"
        fill="${TEXT_COLOR}"
        >${formatNumber(value)}${unit}</text
      >`;
  });
}

/** About six labels of elapsed time under the bars. */
function timeTicks(series: TimeSeries, slot: number, height: number): SafeHtml[] {
  const count = series.buckets.length;
  const every = Math.max(1, Math.ceil(count / 6));
  const ticks: SafeHtml[] = [];
  for (let index = 0; index <= count; index += every) {
    const x = MARGIN.left + index * slot;
    const label = index === 0 ? 'start' : `+${humanDuration(index * series.bucketSeconds * 1000)}`;
    ticks.push(
      markup`<text
        x="${fixed(x)}"
        y="${height - 8}"
        text-anchor="${index === 0 ? 'start' : index === count ? 'end' : 'middle'}"
        font-size="11"
        fill="${TEXT_COLOR}"
        >${label}</text
      >`,
    );
  }
  return ticks;
}

/** The smallest round maximum (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10ⁿ) at or above `value`, at least 1. */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return ([1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((step) => step * magnitude >= value) ?? 10) * magnitude;
}

function fixed(value: number): string {
  return value.toFixed(1);
}
