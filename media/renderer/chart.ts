/**
 * Geometry of the progress chart: throughput and errors per second over the run, as SVG path data.
 * Pure (no DOM), so the arithmetic is unit-tested; chartView.ts puts the paths into the document.
 *
 * Both series share one axis in records per second, so a red band that is tall next to the rate line
 * means a large share of records is failing, and a thin one means few are.
 */
import type { ProgressMark, ProgressSample } from './payloads';

export interface ChartPoint {
  /** Seconds since the first sample. */
  seconds: number;
  rate: number;
  /** Records that failed per second over the interval ending at this sample. */
  errorRate: number;
}

export interface ChartSize {
  width: number;
  height: number;
}

export interface ChartGeometry {
  /** Nothing to draw yet (no sample). */
  empty: boolean;
  rateLine: string;
  /** The rate line closed down to the axis, for a faint fill under it. */
  rateArea: string;
  errorArea: string;
  /** The top of the y axis, in records per second: a round number at or above every value drawn. */
  yMax: number;
  /** Time covered from the first to the last sample, in seconds. */
  spanSeconds: number;
  /** Heights (in chart units) of horizontal grid lines at quarters of yMax. */
  gridLines: number[];
}

/**
 * A point per drawn column is plenty: a ten-hour run has 36,000 samples, and a path that long would cost
 * more to redraw every second than the whole rest of the view.
 */
export const MAX_CHART_POINTS = 240;

export function chartGeometry(history: readonly ProgressSample[], size: ChartSize): ChartGeometry {
  const points = downsample(toChartPoints(history), MAX_CHART_POINTS);
  const last = points[points.length - 1];
  if (!last) {
    return { empty: true, rateLine: '', rateArea: '', errorArea: '', yMax: 1, spanSeconds: 0, gridLines: [] };
  }
  const spanSeconds = last.seconds;
  const yMax = niceCeiling(Math.max(...points.map((p) => Math.max(p.rate, p.errorRate))));
  // A single sample has no time span: draw it as a level line across the chart.
  const drawn =
    points.length === 1
      ? [
          { ...last, seconds: 0 },
          { ...last, seconds: 1 },
        ]
      : points;
  const xSpan = points.length === 1 ? 1 : spanSeconds || 1;
  const x = (seconds: number): number => round((seconds / xSpan) * size.width);
  const y = (value: number): number => round(size.height - (Math.max(0, value) / yMax) * size.height);

  const rateCoordinates = drawn.map((p) => [x(p.seconds), y(p.rate)] as const);
  const errorCoordinates = drawn.map((p) => [x(p.seconds), y(p.errorRate)] as const);
  const rateLine = linePath(rateCoordinates);
  return {
    empty: false,
    rateLine,
    rateArea: closeToAxis(rateLine, rateCoordinates, size.height),
    errorArea: drawn.some((p) => p.errorRate > 0)
      ? closeToAxis(linePath(errorCoordinates), errorCoordinates, size.height)
      : '',
    yMax,
    spanSeconds,
    gridLines: [0.25, 0.5, 0.75].map((share) => round(size.height * share)),
  };
}

/** A mark placed on the chart: `x` in chart units, `share` of the width (for a label placed in CSS). */
export interface PlacedMark {
  x: number;
  share: number;
  kind: ProgressMark['kind'];
  label: string;
}

/**
 * Where the marks fall on the chart's time axis (the one chartGeometry draws): those outside the
 * samples' span (before the kept history, or without a usable time) are left out. At most the last
 * `MAX_CHART_MARKS`, so a run paused a thousand times stays readable and cheap to redraw.
 */
export function placeMarks(
  marks: readonly ProgressMark[],
  history: readonly ProgressSample[],
  width: number,
): PlacedMark[] {
  const times = history.map((sample) => sampleTime(sample.t)).filter((ms) => ms !== undefined);
  const first = times[0];
  const last = times[times.length - 1];
  if (first === undefined || last === undefined) return [];
  const span = last - first;
  const placed: PlacedMark[] = [];
  for (const mark of marks) {
    const ms = sampleTime(mark.t);
    if (ms === undefined || ms < first || ms > last) continue;
    const share = span > 0 ? (ms - first) / span : 0;
    placed.push({ x: round(share * width), share, kind: mark.kind, label: String(mark.label) });
  }
  return placed.slice(-MAX_CHART_MARKS);
}

export const MAX_CHART_MARKS = 20;

/** Samples as chart points; errors per second come from the growth of the cumulative `failed` count. */
export function toChartPoints(history: readonly ProgressSample[]): ChartPoint[] {
  const timed = history
    .map((sample) => ({ sample, ms: sampleTime(sample.t) }))
    .filter((entry): entry is { sample: ProgressSample; ms: number } => entry.ms !== undefined);
  const first = timed[0];
  if (!first) return [];
  return timed.map(({ sample, ms }, index) => {
    const previous = timed[index - 1];
    const seconds = (ms - first.ms) / 1000;
    let errorRate = 0;
    if (previous) {
      const elapsed = (ms - previous.ms) / 1000;
      const failed = sample.failed - previous.sample.failed;
      // A counter that went down (a resumed chain recounting) or a clock that did not move says nothing.
      if (elapsed > 0 && failed > 0) errorRate = failed / elapsed;
    }
    return { seconds, rate: finiteOrZero(sample.rate), errorRate };
  });
}

/**
 * Merges consecutive points into at most `maxPoints`, averaging each group so a spike stays visible as a
 * bump instead of vanishing between two kept samples.
 */
export function downsample(points: readonly ChartPoint[], maxPoints: number): ChartPoint[] {
  if (points.length <= maxPoints) return [...points];
  const groupSize = Math.ceil(points.length / maxPoints);
  const merged: ChartPoint[] = [];
  for (let start = 0; start < points.length; start += groupSize) {
    const group = points.slice(start, start + groupSize);
    const lastInGroup = group[group.length - 1] as ChartPoint;
    merged.push({
      seconds: lastInGroup.seconds,
      rate: average(group.map((p) => p.rate)),
      errorRate: average(group.map((p) => p.errorRate)),
    });
  }
  return merged;
}

/**
 * The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10ⁿ) at or above `value`: the axis label
 * stays readable and the line still fills most of the chart's height.
 */
export function niceCeiling(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * magnitude >= value * (1 - 1e-9)) return step * magnitude;
  }
  return 10 * magnitude;
}

/**
 * Milliseconds since the epoch. A number below 10¹¹ is read as seconds: as milliseconds it would be a
 * moment in 1973, and as seconds 10¹¹ is thousands of years away, so the two never overlap.
 */
export function sampleTime(t: number | string): number | undefined {
  const ms = typeof t === 'number' ? (Math.abs(t) < 1e11 ? t * 1000 : t) : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

function linePath(coordinates: readonly (readonly [number, number])[]): string {
  return coordinates.map(([x, y], index) => `${index === 0 ? 'M' : 'L'}${x} ${y}`).join(' ');
}

function closeToAxis(
  line: string,
  coordinates: readonly (readonly [number, number])[],
  height: number,
): string {
  const first = coordinates[0];
  const last = coordinates[coordinates.length - 1];
  if (!first || !last) return '';
  return `${line} L${last[0]} ${height} L${first[0]} ${height} Z`;
}

function average(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / (values.length || 1);
}

function finiteOrZero(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
