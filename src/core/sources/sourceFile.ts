/** Locating a file-based record source before any reading starts. */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RecordStream } from '../model/types';
import { LineStarts, readLines, type TextLine } from './lineReader';
import { tapChunks, type ByteTap } from './recordStream';
import { UserError } from '../model/types';
import type { OpenSourceOptions } from './sourceKind';

/** What a file source needs besides its path. */
export interface FileReadOptions {
  /** The file's size, for progress. */
  totalBytes: number;
  signal?: AbortSignal;
  /** Size of the chunks read from disk; tests make it tiny to exercise chunk boundaries. */
  chunkBytes?: number;
  /** Where the job's source is in the runbook, for a refusal of the whole file. */
  location?: OpenSourceOptions['location'];
  /** Record line starts, or start at one (sourceSeek.ts). */
  seek?: OpenSourceOptions['seek'];
}

/**
 * Resolves `path` against the runbook's folder and checks that it is a readable file, so a wrong
 * path fails when the source is opened rather than half-way through a run.
 */
export function locateSourceFile(path: string, baseDir: string): { path: string; size: number } {
  const resolved = resolve(baseDir, path);
  let stats;
  try {
    stats = statSync(resolved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UserError(
        `record source not found: ${resolved} (the source path "${path}" is relative to the runbook's folder ${baseDir}; fix the path or create the file)`,
      );
    }
    throw new UserError(`cannot read record source ${resolved}: ${(error as Error).message}`);
  }
  if (!stats.isFile()) {
    throw new UserError(`record source ${resolved} is not a file; the source path must name a file`);
  }
  return { path: resolved, size: stats.size };
}

/** The SHA-256 of a file's raw bytes, streamed; what a file source's stream hashes as it reads. */
export async function hashFile(
  path: string,
  signal?: AbortSignal,
  hash: Hash = createHash('sha256'),
): Promise<Hash> {
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
  return hash;
}

/** The content hash of a file source before reading it: the file's raw bytes, as its stream hashes them. */
export async function fileContentHash(
  path: string,
  options: { baseDir: string; signal?: AbortSignal },
): Promise<string> {
  return (await hashFile(locateSourceFile(path, options.baseDir).path, options.signal)).digest('hex');
}

/**
 * The parts every file source kind shares: the file is located beside the runbook when opened, hashed as
 * its raw bytes, and described by its kind and path. `read` turns the located file into records.
 */
export function fileSourceParts<S extends { type: string; path: string }>(
  read: (path: string, spec: S, options: FileReadOptions) => RecordStream,
) {
  return {
    open: (spec: S, options: OpenSourceOptions): RecordStream => {
      const file = locateSourceFile(spec.path, options.baseDir);
      const { signal, chunkBytes, location, seek } = options;
      return read(file.path, spec, { totalBytes: file.size, signal, chunkBytes, location, seek });
    },
    contentHash: (spec: S, options: OpenSourceOptions) => fileContentHash(spec.path, options),
    describe: (spec: S) => `${spec.type} ${spec.path}`,
  };
}

/**
 * The lines of a file source as a reading needs them: from `options.seek.from` when a resume starts
 * there, with `starts` kept up to date when the reading reports marks (sourceSeek.ts).
 */
export function readFileLines(
  path: string,
  options: FileReadOptions,
  tap: ByteTap,
  onTooLong?: (line: number) => void,
): { lines: AsyncGenerator<TextLine[]>; starts: LineStarts | undefined } {
  const from = options.seek?.from;
  const file = createReadStream(path, {
    highWaterMark: options.chunkBytes,
    signal: options.signal,
    ...(from ? { start: from.byte } : {}),
  });
  const starts = options.seek?.marks ? new LineStarts() : undefined;
  const lines = readLines(tapChunks(file, tap), onTooLong, { ...(from ? { start: from } : {}), starts });
  return { lines, starts };
}

/**
 * True when the file holds more than `limit` newlines: a scan of its bytes that stops as soon as it
 * knows, tens of times faster than parsing the lines it counts.
 */
export function hasMoreLinesThan(path: string, limit: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let lines = 0;
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) {
      for (let at = chunk.indexOf(10); at >= 0 && at < read; at = chunk.indexOf(10, at + 1)) {
        lines += 1;
        if (lines > limit) return true;
      }
    }
    return false;
  } finally {
    closeSync(fd);
  }
}
