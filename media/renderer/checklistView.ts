/**
 * A stakeholder checklist. A click does not check the box by itself: it asks the extension, which
 * records who and when in the runbook and the ledger and then sends the checklist back. Until then the
 * item shows as pending, so the box never claims a sign-off that was not recorded.
 */
import type { RendererContext } from 'vscode-notebook-renderer';
import { checklistModel, type ChecklistRow } from './checklistModel';
import { el, KeyedList, setAttr, setText } from './dom';
import type { ChecklistPayload, ToggleChecklistItemMessage } from './payloads';

export class ChecklistView {
  readonly root = el('section', 'bf bf-checklist');
  private readonly summary = el('span', 'bf-context');
  private readonly badge = el('span', 'bf-badge', 'Checklist');
  private readonly items: KeyedList<ChecklistRow>;
  private cell = '';

  constructor(private readonly context: Pick<RendererContext<unknown>, 'postMessage'>) {
    const header = el('header', 'bf-header');
    header.append(this.badge, this.summary);
    const list = el('ul', 'bf-checklist-items');
    this.items = new KeyedList(
      list,
      (row) => row.id,
      (row) => this.createItem(row),
      updateItem,
    );
    this.root.append(header, list);
    if (!context.postMessage) {
      this.root.append(
        el('div', 'bf-muted', 'Read-only here: check items in VS Code with the Backfill extension.'),
      );
    }
  }

  update(payload: ChecklistPayload): void {
    this.cell = payload.cell;
    const model = checklistModel(payload);
    setText(this.summary, model.summary);
    setAttr(this.badge, 'data-tone', model.tone);
    this.items.sync(model.rows);
  }

  private createItem(row: ChecklistRow): HTMLElement {
    const item = el('li', 'bf-checklist-item');
    const label = el('label');
    const box = el('input');
    box.type = 'checkbox';
    box.disabled = !this.context.postMessage;
    box.addEventListener('change', () => {
      // Undo the browser's toggle: the box follows what the extension recorded, not the click.
      box.checked = !box.checked;
      item.dataset.pending = 'true';
      const message: ToggleChecklistItemMessage = {
        type: 'toggleChecklistItem',
        cell: this.cell,
        item: row.id,
      };
      this.context.postMessage?.(message);
    });
    const text = el('span', 'bf-checklist-text');
    text.append(el('span', 'bf-checklist-label'), el('span', 'bf-tag bf-required', 'required'));
    label.append(box, text);
    item.append(label, el('span', 'bf-muted bf-checklist-note'));
    return item;
  }
}

function updateItem(item: HTMLElement, row: ChecklistRow): void {
  const box = item.querySelector('input') as HTMLInputElement;
  box.checked = row.checked;
  delete item.dataset.pending;
  setAttr(item, 'data-checked', String(row.checked));
  setAttr(item, 'data-unheld', row.unheld ? 'true' : undefined);
  setText(item.querySelector('.bf-checklist-label') as HTMLElement, row.label);
  (item.querySelector('.bf-required') as HTMLElement).hidden = !row.required;
  setText(item.querySelector('.bf-checklist-note') as HTMLElement, row.note);
}
