/**
 * Small DOM helpers for views that update in place: elements are created once and only their text,
 * attributes and widths change afterwards, so a once-a-second update neither flickers nor loses a text
 * selection. Text always goes through textContent: record values are data, never markup.
 */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Writes only when the text changed, so unchanged nodes are not touched (no relayout, no lost selection). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

export function setAttr(node: Element, name: string, value: string | undefined): void {
  if (value === undefined) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== value) {
    node.setAttribute(name, value);
  }
}

export function setHidden(node: HTMLElement, hidden: boolean): void {
  if (node.hidden !== hidden) node.hidden = hidden;
}

export function setStyle(node: HTMLElement, property: string, value: string): void {
  if (node.style.getPropertyValue(property) !== value) node.style.setProperty(property, value);
}

/**
 * A list whose rows keep their element from one update to the next, matched by key: rows are added,
 * updated, reordered and removed, never rebuilt wholesale.
 */
export class KeyedList<T, N extends HTMLElement = HTMLElement> {
  private readonly rows = new Map<string, N>();

  constructor(
    readonly container: HTMLElement,
    private readonly keyOf: (item: T) => string,
    private readonly create: (item: T) => N,
    private readonly update: (row: N, item: T) => void,
  ) {}

  sync(items: readonly T[]): void {
    const wanted = new Set<string>();
    let previous: ChildNode | null = null;
    for (const item of items) {
      const key = this.keyOf(item);
      wanted.add(key);
      let row = this.rows.get(key);
      if (!row) {
        row = this.create(item);
        this.rows.set(key, row);
      }
      this.update(row, item);
      const expectedPosition: ChildNode | null = previous ? previous.nextSibling : this.container.firstChild;
      if (expectedPosition !== row) this.container.insertBefore(row, expectedPosition);
      previous = row;
    }
    for (const [key, row] of this.rows) {
      if (!wanted.has(key)) {
        row.remove();
        this.rows.delete(key);
      }
    }
  }
}
