/** Verification results: counts by end state and the records that are not right, with what differs. */
import { el, setAttr, setText } from './dom';
import { ListSection } from './listSection';
import type { VerifyPayload } from './payloads';
import { createStatTiles } from './statTiles';
import { verifyModel, type VerifySampleRow } from './verifyModel';

export class VerifyView {
  readonly root = el('section', 'bf bf-verify');
  private readonly badge = el('span', 'bf-badge', 'Verification');
  private readonly headline = el('span', 'bf-context');
  private readonly note = el('p', 'bf-note');
  private readonly stats = createStatTiles();
  private readonly gaps = new ListSection<VerifySampleRow>(
    [
      { title: 'Key', className: 'bf-key', value: (row) => row.key },
      { title: 'State', className: 'bf-state', value: (row) => row.statusLabel },
      { title: 'What differs', value: (row) => row.detail },
      { title: 'Expected', className: 'bf-mono', value: (row) => row.expected },
      { title: 'Actual', className: 'bf-mono', value: (row) => row.actual },
    ],
    (row) => row.id,
    (row) => row.tone,
  );

  constructor() {
    const header = el('header', 'bf-header');
    header.append(this.badge, this.headline);
    this.root.append(header, this.note, this.stats.root, this.gaps.root);
  }

  update(payload: VerifyPayload): void {
    const model = verifyModel(payload);
    setAttr(this.badge, 'data-tone', model.tone);
    setText(this.headline, model.headline);
    setText(this.note, payload.note ?? '');
    this.note.hidden = !payload.note;
    this.stats.update(model.stats);
    this.gaps.update(
      'Records that are not right',
      model.samples.shown,
      model.samples.more,
      'Show Ledger lists them all',
    );
  }
}
