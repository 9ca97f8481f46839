import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A file the bundles load at run time (a .wasm, esbuild's browser API): beside the bundle when built
 * (dist/), in node_modules when run from source. `override` (an environment variable's value) wins.
 * Undefined when it is nowhere.
 */
export function findBundledFile(
  besideBundle: string,
  inPackage: string,
  override?: string,
): string | undefined {
  const candidates = [override, path.join(__dirname, besideBundle), safeResolve(inPackage)];
  return candidates.find((file): file is string => !!file && fs.existsSync(file));
}

function safeResolve(request: string): string | undefined {
  try {
    return require.resolve(request);
  } catch {
    return undefined;
  }
}
