/**
 * JSON with object keys sorted at every level, so the same data always gives the same text and hash
 * whatever order a YAML or JSON file listed its keys in.
 *
 * Hand-written because it is a dozen lines; a package (json-stable-stringify) would add a dependency for
 * the same sort, and the fingerprint must never change with a library's upgrade.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return Object.fromEntries(entries.map(([key, inner]) => [key, sortKeys(inner)]));
}
