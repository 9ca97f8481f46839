/**
 * Live progress of a run: state, a bar split by outcome, the figures an operator watches, errors by kind
 * and the throughput chart. Built once; each new status (about once a second) updates it in place.
 */
import type { ErrorKindRow } from './aggregate';
import { ChartView } from './chartView';
import { el, KeyedList, setAttr, setHidden, setStyle, setText } from './dom';
import { FailureReasonsView } from './failureReasonsView';
import { formatCount } from './format';
import type { ProgressPayload } from './payloads';
import { progressModel, type BarSegments } from './progressModel';
import { createStatTiles } from './statTiles';
import { WorkersView } from './workersView';

const SEGMENTS: (keyof BarSegments)[] = ['succeeded', 'failed', 'rejected', 'skipped'];

export class ProgressView {
  readonly root = el('section', 'bf bf-progress');
  private readonly state = el('span', 'bf-badge');
  private readonly mode = el('span', 'bf-badge bf-mode');
  private readonly context = el('span', 'bf-context');
  private readonly updated = el('span', 'bf-muted bf-updated');
  private readonly banner = el('div', 'bf-banner');
  private readonly bar = el('div', 'bf-bar');
  private readonly segments = SEGMENTS.map((name) => el('div', `bf-bar-segment bf-${name}`));
  private readonly headline = el('span', 'bf-headline');
  private readonly eta = el('span', 'bf-eta');
  /** Which cells delivered the records this run skips. */
  private readonly doneElsewhere = el('div', 'bf-muted bf-done-elsewhere');
  private readonly recordStats = createStatTiles();
  private readonly speedStats = createStatTiles();
  private readonly chart = new ChartView();
  private readonly errorsHeading = el('h3', 'bf-heading');
  private readonly errorsEmpty = el('div', 'bf-muted', 'No failed attempt so far.');
  private readonly errorRows: KeyedList<ErrorKindRow>;
  private readonly failureReasons = new FailureReasonsView();
  /** A distributed run's workers, right under the figures they add up to; hidden for a local run. */
  private readonly workers = new WorkersView();

  constructor() {
    const header = el('header', 'bf-header');
    header.append(this.state, this.mode, this.context, el('span', 'bf-spacer'), this.updated);
    setAttr(this.bar, 'role', 'progressbar');
    setAttr(this.bar, 'aria-valuemin', '0');
    setAttr(this.bar, 'aria-valuemax', '100');
    this.bar.append(...this.segments);
    const caption = el('div', 'bf-bar-caption');
    caption.append(this.headline, this.eta);

    const errorTable = el('div', 'bf-error-kinds');
    this.errorRows = new KeyedList(errorTable, (row) => row.kind, createErrorRow, updateErrorRow);
    const errors = el('section', 'bf-panel bf-errors');
    errors.append(this.errorsHeading, this.errorsEmpty, errorTable);
    const chartPanel = el('section', 'bf-panel');
    chartPanel.append(el('h3', 'bf-heading', 'Throughput'), this.chart.root);
    const panels = el('div', 'bf-panels');
    panels.append(chartPanel, errors);

    const stats = el('div', 'bf-stat-groups');
    stats.append(this.recordStats.root, this.speedStats.root);
    this.root.append(
      header,
      this.banner,
      this.bar,
      caption,
      this.doneElsewhere,
      stats,
      this.workers.root,
      this.failureReasons.root,
      panels,
    );
  }

  update(payload: ProgressPayload): void {
    const model = progressModel(payload.status);
    setText(this.state, model.stateLabel);
    setAttr(this.state, 'data-tone', model.stateTone);
    setAttr(this.root, 'data-state', model.state);
    setText(this.mode, model.mode);
    setAttr(this.mode, 'data-tone', model.production ? 'danger' : 'neutral');
    setText(this.context, model.context);
    setText(this.updated, model.updated);

    setHidden(this.banner, !model.banner);
    setText(this.banner, model.banner?.text ?? '');
    setAttr(this.banner, 'data-tone', model.banner?.tone);

    setAttr(this.bar, 'data-determinate', String(model.determinate));
    setAttr(this.bar, 'aria-valuenow', model.percent === undefined ? undefined : model.percent.toFixed(1));
    setAttr(this.bar, 'aria-valuetext', model.headline);
    SEGMENTS.forEach((name, index) => {
      setStyle(this.segments[index] as HTMLElement, 'width', `${(model.segments[name] * 100).toFixed(3)}%`);
    });
    setText(this.headline, model.headline);
    setText(this.eta, model.eta);
    setText(this.doneElsewhere, model.doneElsewhere);
    setHidden(this.doneElsewhere, model.doneElsewhere === '');

    this.recordStats.update(model.recordStats);
    this.speedStats.update(model.speedStats);
    this.chart.update(payload.history, Array.isArray(payload.marks) ? payload.marks : []);
    // Attempts, not records: a 429 retried into a success counts here but not under Failed.
    setText(
      this.errorsHeading,
      model.errorTotal > 0
        ? `Failed attempts by kind — ${formatCount(model.errorTotal)}`
        : 'Failed attempts by kind',
    );
    setHidden(this.errorsEmpty, model.errors.length > 0);
    this.errorRows.sync(model.errors);
    this.failureReasons.update(payload.status);
    this.workers.update(payload.fleet);
  }
}

function createErrorRow(): HTMLElement {
  const row = el('div', 'bf-error-kind');
  const meter = el('div', 'bf-meter');
  meter.append(el('div', 'bf-meter-fill'));
  row.append(el('span', 'bf-error-label'), meter, el('span', 'bf-error-count'));
  return row;
}

function updateErrorRow(row: HTMLElement, error: ErrorKindRow): void {
  const [label, meter, count] = Array.from(row.children) as HTMLElement[];
  setText(label as HTMLElement, error.label);
  setStyle(meter?.firstElementChild as HTMLElement, 'width', `${(error.share * 100).toFixed(1)}%`);
  setText(count as HTMLElement, formatCount(error.count));
  setAttr(row, 'data-kind', error.kind);
}
