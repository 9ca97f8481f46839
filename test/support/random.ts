import { seededRandom } from '../../src/core/support/seededRandom';

export type Random = () => number;

/** A repeatable random sequence for generated test documents. */
export const seeded: (seed: number) => Random = seededRandom;

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}
