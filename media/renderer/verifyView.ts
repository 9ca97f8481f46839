/**
 * Verification results: counts by end state and the records that are not right, with what differs, and a
 * button that asks the extension to re-send the gaps (it confirms first, as every real run does).
 */
import type { RendererContext } from 'vscode-notebook-renderer';
import { el, setAttr, setText } from './dom';
import { ListSection } from './listSection';
import type { ResendUnverifiedMessage, VerifyPayload } from './payloads';
import { createStatTiles } from './statTiles';
import { verifyModel, type VerifySampleRow } from './verifyModel';

export class VerifyView {
  readonly root = el('section', 'bf bf-verify');
  private readonly badge = el('span', 'bf-badge', 'Verification');
  private readonly headline = el('span', 'bf-context');
  private readonly production = el('span', 'bf-badge bf-mode');
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

  private readonly actions = el('div', 'bf-actions');
  private readonly resend = el('button', 'bf-button');
  private cell = '';

  constructor(private readonly context: Pick<RendererContext<unknown>, 'postMessage'>) {
    const header = el('header', 'bf-header');
    header.append(this.badge, this.production, this.headline);
    this.actions.append(this.resend);
    this.resend.type = 'button';
    this.resend.addEventListener('click', () => {
      const message: ResendUnverifiedMessage = { type: 'resendUnverified', cell: this.cell };
      this.context.postMessage?.(message);
    });
    this.root.append(header, this.note, this.stats.root, this.actions, this.gaps.root);
  }

  update(payload: VerifyPayload): void {
    const model = verifyModel(payload);
    this.cell = payload.cell;
    setText(this.resend, model.resend ?? '');
    // Without messaging (a code host, an exported page) there is no one to ask: no button.
    this.actions.hidden = !model.resend || !this.context.postMessage;
    setAttr(this.badge, 'data-tone', model.tone);
    setText(this.production, model.production ?? '');
    setAttr(this.production, 'data-tone', model.production ? 'danger' : undefined);
    this.production.hidden = !model.production;
    setAttr(this.root, 'data-production', model.production ? 'true' : undefined);
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
