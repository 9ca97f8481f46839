/**
 * A titled table of records (rejected, duplicates, verification gaps) capped at a few rows, with
 * "and N more" below it: a run with 300,000 rejected records still renders a handful of rows.
 */
import { moreText } from './aggregate';
import { el, KeyedList, setAttr, setHidden, setText } from './dom';

export interface Column<T> {
  title: string;
  className?: string;
  value(row: T): string;
}

export class ListSection<T> {
  readonly root = el('section', 'bf-panel bf-list');
  private readonly heading = el('h3', 'bf-heading');
  private readonly more = el('div', 'bf-muted bf-more');
  private readonly rows: KeyedList<T, HTMLTableRowElement>;

  /** `toneOf` colours a whole row (a mismatch red, a missing record yellow). */
  constructor(columns: readonly Column<T>[], keyOf: (row: T) => string, toneOf?: (row: T) => string) {
    const table = el('table', 'bf-table');
    const head = el('tr');
    for (const column of columns) head.append(el('th', column.className, column.title));
    table.createTHead().append(head);
    const body = table.createTBody();
    this.rows = new KeyedList<T, HTMLTableRowElement>(
      body,
      keyOf,
      () => {
        const row = el('tr');
        for (const column of columns) row.append(el('td', column.className));
        return row;
      },
      (row, item) => {
        columns.forEach((column, index) => setText(row.cells[index] as Node, column.value(item)));
        setAttr(row, 'data-tone', toneOf?.(item));
      },
    );
    this.root.append(this.heading, table, this.more);
  }

  update(title: string, shown: readonly T[], more: number, moreHint = ''): void {
    setHidden(this.root, shown.length === 0 && more === 0);
    setText(this.heading, title);
    this.rows.sync(shown);
    const text = moreText(more);
    setText(this.more, text && moreHint ? `${text} — ${moreHint}` : text);
    setHidden(this.more, !text);
    setAttr(this.root, 'data-more', String(more));
  }
}
