/**
 * The repeated keys of a source, kept in the state folder under the fingerprint of the job and its data,
 * so a resume of a big source does not read it all once more before its first record. One file, the
 * latest source's only: a new fingerprint replaces it. A file that cannot be read or written only means
 * the keys are found again. This file cannot depend on the vscode API.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { RepeatedKeys } from './repeatedKeys';

interface CachedKeys {
  fingerprint: string;
  repeated: [string, number[]][];
}

/** The repeated keys stored for `fingerprint`, or undefined when the file holds none for it. */
export async function readRepeatedKeys(
  file: string,
  fingerprint: string,
): Promise<Map<string, number[]> | undefined> {
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as CachedKeys;
    if (cached.fingerprint !== fingerprint || !Array.isArray(cached.repeated)) return undefined;
    return new Map(cached.repeated);
  } catch {
    return undefined;
  }
}

/** Stores the repeated keys of `fingerprint`; a failure to write is ignored (they are found again). */
export async function writeRepeatedKeys(
  file: string,
  fingerprint: string,
  repeated: RepeatedKeys,
): Promise<void> {
  const cached: CachedKeys = {
    fingerprint,
    repeated: [...repeated].map(([key, lines]) => [key, [...lines]]),
  };
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(cached));
    await rename(temporary, file);
  } catch {
    // the cache is only a shortcut
  }
}
