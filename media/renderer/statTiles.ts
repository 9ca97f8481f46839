/** The row of labelled figures shared by the progress, dry-run and verification views. */
import { el, KeyedList, setAttr, setText } from './dom';
import type { Stat } from './progressModel';

export function createStatTiles(): { root: HTMLElement; update(stats: readonly Stat[]): void } {
  const root = el('div', 'bf-stats');
  const tiles = new KeyedList<Stat>(
    root,
    (stat) => stat.id,
    (stat) => {
      const tile = el('div', 'bf-stat');
      tile.dataset.stat = stat.id;
      tile.append(el('span', 'bf-stat-value'), el('span', 'bf-stat-label'));
      return tile;
    },
    (tile, stat) => {
      setText(tile.children[0] as HTMLElement, stat.value);
      setText(tile.children[1] as HTMLElement, stat.label);
      setAttr(tile, 'data-tone', stat.tone ?? 'neutral');
      setAttr(tile, 'title', stat.title);
    },
  );
  return { root, update: (stats) => tiles.sync(stats) };
}
