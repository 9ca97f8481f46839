/**
 * The dry-run preview: verdict with the problems to fix, counts, estimated duration, sample requests
 * exactly as they would be sent, and the rejected and duplicate records with their lines.
 */
import { el, KeyedList, setAttr, setHidden, setText } from './dom';
import { dryRunModel, type SampleRequest } from './dryRunModel';
import { formatCount } from './format';
import { ListSection } from './listSection';
import type { DryRunPayload } from './payloads';
import { createStatTiles } from './statTiles';

type RejectedRow = { line: string; key: string; reason: string };
type DuplicateRow = { line: string; key: string; firstLine: string };

export class DryRunView {
  readonly root = el('section', 'bf bf-dry-run');
  private readonly verdict = el('span', 'bf-badge');
  private readonly environment = el('span', 'bf-badge bf-mode');
  private readonly context = el('span', 'bf-context');
  private readonly problems = el('ul', 'bf-banner');
  private readonly warnings = el('ul', 'bf-banner');
  private readonly stats = createStatTiles();
  private readonly estimate = el('div', 'bf-estimate');
  private readonly samplesHeading = el('h3', 'bf-heading');
  private readonly samples: KeyedList<SampleRequest>;
  private readonly rejected = new ListSection<RejectedRow>(
    [
      { title: 'Line', className: 'bf-num', value: (row) => row.line },
      { title: 'Key', className: 'bf-key', value: (row) => row.key },
      { title: 'Reason', value: (row) => row.reason },
    ],
    (row) => `${row.line}:${row.key}`,
  );
  private readonly duplicates = new ListSection<DuplicateRow>(
    [
      { title: 'Line', className: 'bf-num', value: (row) => row.line },
      { title: 'Key', className: 'bf-key', value: (row) => row.key },
      { title: 'First seen on line', className: 'bf-num', value: (row) => row.firstLine },
    ],
    (row) => `${row.line}:${row.key}`,
  );
  private readonly footer = el('footer', 'bf-footer bf-muted');

  constructor() {
    const header = el('header', 'bf-header');
    header.append(
      this.verdict,
      this.environment,
      this.context,
      el('span', 'bf-spacer'),
      el('span', 'bf-muted', 'nothing was sent'),
    );
    setAttr(this.problems, 'data-tone', 'danger');
    setAttr(this.warnings, 'data-tone', 'warning');
    const sampleList = el('div', 'bf-samples');
    this.samples = new KeyedList(sampleList, (sample) => sample.id, createSample, updateSample);
    const samplesPanel = el('section', 'bf-panel');
    samplesPanel.append(this.samplesHeading, sampleList);
    this.root.append(
      header,
      this.problems,
      this.warnings,
      this.stats.root,
      this.estimate,
      samplesPanel,
      this.rejected.root,
      this.duplicates.root,
      this.footer,
    );
  }

  update(report: DryRunPayload): void {
    const model = dryRunModel(report);
    setText(this.verdict, model.verdict);
    setAttr(this.verdict, 'data-tone', model.passed ? 'success' : 'danger');
    setAttr(this.root, 'data-passed', String(model.passed));
    setText(this.environment, model.production ? 'PRODUCTION' : 'dry run');
    setAttr(this.environment, 'data-tone', model.production ? 'danger' : 'neutral');
    setText(this.context, model.context);
    syncItems(this.problems, model.problems);
    syncItems(this.warnings, model.warnings);
    this.stats.update(model.stats);
    setText(this.estimate, model.estimate ? `Estimated duration: ${model.estimate}` : '');
    setHidden(this.estimate, !model.estimate);
    setText(this.samplesHeading, model.samplesHeading);
    this.samples.sync(model.samples);
    this.rejected.update(
      `Rejected records — ${formatCount(model.rejectedCount)}`,
      model.rejected.shown,
      model.rejected.more,
      'all are in the ledger',
    );
    this.duplicates.update(
      `Duplicate keys — ${formatCount(model.duplicateCount)}`,
      model.duplicates.shown,
      model.duplicates.more,
      'all are in the ledger',
    );
    setText(this.footer, model.footer);
    setAttr(this.footer, 'title', model.fingerprint ? `fingerprint ${model.fingerprint}` : undefined);
  }
}

function createSample(): HTMLElement {
  const sample = el('article', 'bf-sample');
  const head = el('div', 'bf-sample-head');
  head.append(el('span', 'bf-sample-title'), el('span', 'bf-tag'));
  sample.append(head, el('pre', 'bf-code'));
  return sample;
}

function updateSample(sample: HTMLElement, request: SampleRequest): void {
  const [head, code] = Array.from(sample.children) as HTMLElement[];
  const [title, tag] = Array.from(head?.children ?? []) as HTMLElement[];
  setText(title as HTMLElement, request.heading);
  setText(tag as HTMLElement, request.why);
  setText(code as HTMLElement, request.text);
}

/** A banner's bullet points; the banner hides itself when there is nothing to say. */
function syncItems(list: HTMLElement, items: readonly string[]): void {
  setHidden(list, items.length === 0);
  while (list.childElementCount < items.length) list.append(el('li'));
  while (list.childElementCount > items.length) list.lastElementChild?.remove();
  items.forEach((item, index) => setText(list.children[index] as HTMLElement, item));
}
