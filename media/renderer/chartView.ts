/**
 * The inline SVG chart of throughput and errors over the run. The SVG stretches to the output's width
 * (strokes keep their width), and its paths are rewritten in place on each update.
 */
import { chartGeometry, placeMarks, type PlacedMark } from './chart';
import { el, setAttr, setHidden, setText } from './dom';
import { formatDuration, formatRate } from './format';
import type { ProgressMark, ProgressSample } from './payloads';

const SVG = 'http://www.w3.org/2000/svg';
/** Chart units; the SVG is scaled to the element's size, so only the aspect ratio matters much. */
const SIZE = { width: 600, height: 120 };

export class ChartView {
  readonly root = el('figure', 'bf-chart');
  private readonly grid = svg('g', 'bf-chart-grid');
  private readonly rateArea = svg('path', 'bf-chart-rate-area');
  private readonly rateLine = svg('path', 'bf-chart-rate');
  private readonly errorArea = svg('path', 'bf-chart-errors');
  /** Vertical lines at pauses, resumes, rate changes and re-attaches, with their labels above the plot. */
  private readonly markLines = svg('g', 'bf-chart-marks');
  private readonly markLabels = el('div', 'bf-chart-mark-labels');
  private readonly yMax = el('span', 'bf-chart-ymax');
  private readonly span = el('span', 'bf-chart-span');
  private readonly empty = el('div', 'bf-chart-empty', 'Waiting for the first samples…');

  constructor() {
    const plot = svg('svg', 'bf-chart-plot');
    setAttr(plot, 'viewBox', `0 0 ${SIZE.width} ${SIZE.height}`);
    setAttr(plot, 'preserveAspectRatio', 'none');
    setAttr(plot, 'role', 'img');
    setAttr(plot, 'aria-label', 'Records per second and records failed per second over the run');
    plot.append(this.grid, this.markLines, this.rateArea, this.errorArea, this.rateLine);
    const frame = el('div', 'bf-chart-frame');
    frame.append(plot, this.markLabels, this.yMax, el('span', 'bf-chart-zero', '0'), this.empty);
    const legend = el('figcaption', 'bf-chart-legend');
    legend.append(legendKey('bf-key-rate', 'records/s'), legendKey('bf-key-errors', 'failed/s'), this.span);
    this.root.append(frame, legend);
  }

  update(history: readonly ProgressSample[], marks: readonly ProgressMark[] = []): void {
    const geometry = chartGeometry(history, SIZE);
    this.syncMarks(placeMarks(marks, history, SIZE.width));
    setHidden(this.empty, !geometry.empty);
    setAttr(this.rateLine, 'd', geometry.rateLine);
    setAttr(this.rateArea, 'd', geometry.rateArea);
    setAttr(this.errorArea, 'd', geometry.errorArea);
    setText(this.yMax, geometry.empty ? '' : formatRate(geometry.yMax));
    setText(this.span, geometry.empty ? '' : `over ${formatDuration(geometry.spanSeconds)}`);
    this.syncGrid(geometry.gridLines);
  }

  private syncMarks(marks: readonly PlacedMark[]): void {
    while (this.markLines.childElementCount < marks.length) {
      const line = svg('line', 'bf-chart-mark');
      line.append(svg('title'));
      this.markLines.append(line);
      this.markLabels.append(el('span', 'bf-chart-mark-label'));
    }
    while (this.markLines.childElementCount > marks.length) {
      this.markLines.lastElementChild?.remove();
      this.markLabels.lastElementChild?.remove();
    }
    marks.forEach((mark, index) => {
      const line = this.markLines.children[index] as SVGLineElement;
      setAttr(line, 'x1', String(mark.x));
      setAttr(line, 'x2', String(mark.x));
      setAttr(line, 'y1', '0');
      setAttr(line, 'y2', String(SIZE.height));
      setAttr(line, 'data-kind', mark.kind);
      setText(line.firstChild as Node, mark.label);
      const label = this.markLabels.children[index] as HTMLElement;
      setText(label, mark.label);
      setAttr(label, 'data-kind', mark.kind);
      // Labels sit at their line, one near the right edge hanging to its left; three rows, so the labels
      // of a pause, a rate change and a resume seconds apart do not cover each other.
      const left = `${(mark.share * 100).toFixed(2)}%`;
      const across = mark.share > 0.7 ? `right: calc(100% - ${left})` : `left: ${left}`;
      setAttr(label, 'style', `${across}; top: ${14 + 13 * (index % 3)}px`);
    });
  }

  private syncGrid(heights: readonly number[]): void {
    while (this.grid.childElementCount < heights.length) this.grid.append(svg('line'));
    while (this.grid.childElementCount > heights.length) this.grid.lastElementChild?.remove();
    heights.forEach((y, index) => {
      const line = this.grid.children[index] as SVGLineElement;
      setAttr(line, 'x1', '0');
      setAttr(line, 'x2', String(SIZE.width));
      setAttr(line, 'y1', String(y));
      setAttr(line, 'y2', String(y));
    });
  }
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, className?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  if (className) node.setAttribute('class', className);
  return node;
}

function legendKey(className: string, text: string): HTMLElement {
  const key = el('span', 'bf-legend-key');
  key.append(el('span', `bf-swatch ${className}`), document.createTextNode(text));
  return key;
}
