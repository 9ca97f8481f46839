/**
 * The inline SVG chart of throughput and errors over the run. The SVG stretches to the output's width
 * (strokes keep their width), and its paths are rewritten in place on each update.
 */
import { chartGeometry } from './chart';
import { el, setAttr, setHidden, setText } from './dom';
import { formatDuration, formatRate } from './format';
import type { ProgressSample } from './payloads';

const SVG = 'http://www.w3.org/2000/svg';
/** Chart units; the SVG is scaled to the element's size, so only the aspect ratio matters much. */
const SIZE = { width: 600, height: 120 };

export class ChartView {
  readonly root = el('figure', 'bf-chart');
  private readonly grid = svg('g', 'bf-chart-grid');
  private readonly rateArea = svg('path', 'bf-chart-rate-area');
  private readonly rateLine = svg('path', 'bf-chart-rate');
  private readonly errorArea = svg('path', 'bf-chart-errors');
  private readonly yMax = el('span', 'bf-chart-ymax');
  private readonly span = el('span', 'bf-chart-span');
  private readonly empty = el('div', 'bf-chart-empty', 'Waiting for the first samples…');

  constructor() {
    const plot = svg('svg', 'bf-chart-plot');
    setAttr(plot, 'viewBox', `0 0 ${SIZE.width} ${SIZE.height}`);
    setAttr(plot, 'preserveAspectRatio', 'none');
    setAttr(plot, 'role', 'img');
    setAttr(plot, 'aria-label', 'Records per second and records failed per second over the run');
    plot.append(this.grid, this.rateArea, this.errorArea, this.rateLine);
    const frame = el('div', 'bf-chart-frame');
    frame.append(plot, this.yMax, el('span', 'bf-chart-zero', '0'), this.empty);
    const legend = el('figcaption', 'bf-chart-legend');
    legend.append(legendKey('bf-key-rate', 'records/s'), legendKey('bf-key-errors', 'failed/s'), this.span);
    this.root.append(frame, legend);
  }

  update(history: readonly ProgressSample[]): void {
    const geometry = chartGeometry(history, SIZE);
    setHidden(this.empty, !geometry.empty);
    setAttr(this.rateLine, 'd', geometry.rateLine);
    setAttr(this.rateArea, 'd', geometry.rateArea);
    setAttr(this.errorArea, 'd', geometry.errorArea);
    setText(this.yMax, geometry.empty ? '' : formatRate(geometry.yMax));
    setText(this.span, geometry.empty ? '' : `over ${formatDuration(geometry.spanSeconds)}`);
    this.syncGrid(geometry.gridLines);
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
