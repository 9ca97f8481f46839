/**
 * The content hash of a file source before a run, without reading a file that has not changed since
 * the last run hashed it: hashing 150 MB of a 10-million-record source cost 1–4 s of every resume,
 * more than the whole target of 2 s to the first record.
 *
 * Kept in the state folder (`source-hash.json`): the file's device, inode, size, modification and
 * status-change times (nanoseconds), and its SHA-256. The hash is taken from there only when all of
 * them are the same. Why that is safe: any write to the file, a `touch`, a rename over it or a copy onto
 * it changes its status-change time (ctime), which no user call can set back — unlike the modification
 * time, which `touch -d` or `cp -p` can. The racy case, a write within the same clock tick as the
 * hashing, is closed as git closes it: a hash is only kept when the file's ctime is at least two seconds
 * older than the moment hashing began, so a later write necessarily shows a later ctime. Only moving the
 * system clock back, or editing the disk below the file system, gets past it.
 *
 * This file cannot depend on the vscode API.
 */
import { readFileSync, renameSync, statSync, writeFileSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { locateSourceFile } from '../sources/sourceFile';
import type { OpenSourceOptions } from '../sources/sourceKind';
import { sourceContentHash, type SourceSpec } from '../sources/sourceKinds';

const FILE = 'source-hash.json';
/** The kinds hashed as their file's raw bytes. */
const FILE_KINDS: ReadonlySet<string> = new Set(['csv', 'jsonl', 'json']);
/** How much older than the hashing a file's last change must be for its hash to be kept. */
const SETTLED_NS = 2_000_000_000n;

interface CachedHash {
  version: 1;
  path: string;
  identity: string;
  hash: string;
}

/** {@link sourceContentHash}, from `stateDir`'s cache when the file is provably the one hashed. */
export async function cachedSourceHash(
  spec: SourceSpec,
  options: OpenSourceOptions,
  stateDir: string,
): Promise<string> {
  if (!FILE_KINDS.has(spec.type) || !('path' in spec)) return sourceContentHash(spec, options);
  const path = locateSourceFile(spec.path, options.baseDir).path;
  const cacheFile = join(stateDir, FILE);
  const before = identityOf(statSync(path, { bigint: true }));
  const cached = readCache(cacheFile);
  if (cached?.path === path && cached.identity === before.text) return cached.hash;
  const startedNs = BigInt(Date.now()) * 1_000_000n;
  const hash = await sourceContentHash(spec, options);
  const after = identityOf(statSync(path, { bigint: true }));
  if (after.text === before.text && after.ctimeNs < startedNs - SETTLED_NS) {
    writeCache(cacheFile, { version: 1, path, identity: after.text, hash });
  }
  return hash;
}

function identityOf(stats: BigIntStats): { text: string; ctimeNs: bigint } {
  const parts = [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs];
  return { text: parts.join(':'), ctimeNs: stats.ctimeNs };
}

function readCache(file: string): CachedHash | undefined {
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as CachedHash;
    return cached.version === 1 && typeof cached.hash === 'string' ? cached : undefined;
  } catch {
    return undefined; // no cache, or a broken one: the file is hashed
  }
}

function writeCache(file: string, cached: CachedHash): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, JSON.stringify(cached));
    renameSync(temporary, file);
  } catch {
    // the cache is only a shortcut
  }
}
