/**
 * Command record source: runs a program (argv, never through a shell) and reads its standard output
 * as JSON Lines while it runs. The records are exactly the bytes the program printed, so the content
 * hash covers its output, not the command line.
 */
import { spawn } from 'node:child_process';
import type { RecordStream, SourceItem } from '../model/types';
import { UserError } from '../model/types';
import { jsonLinesToItems } from './jsonlSource';
import { readLines } from './lineReader';
import type { ByteTap } from './recordStream';
import { createRecordStream, tapChunks } from './recordStream';
import { z } from 'zod';
import { hashByReading } from './recordStream';
import { sourceCommon } from './sourceFields';
import type { SourceKind } from './sourceKind';

/** How much of the end of stderr to keep for the error message of a failing command. */
const STDERR_TAIL_BYTES = 4096;

export interface CommandReadOptions {
  /** Working directory: the runbook's folder, so relative paths in argv mean what they say there. */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Runs `argv` and reads its standard output as JSON Lines records. */
export function commandSource(argv: readonly string[], options: CommandReadOptions): RecordStream {
  return createRecordStream((tap) => runCommand(argv, options, tap));
}

async function* runCommand(
  argv: readonly string[],
  options: CommandReadOptions,
  tap: ByteTap,
): AsyncGenerator<SourceItem> {
  const [program, ...args] = argv as [string, ...string[]];
  const child = spawn(program, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: options.signal,
  });
  const stderr = new TailBuffer(STDERR_TAIL_BYTES);
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  // Observed here, awaited after stdout ends: an early 'error' must not count as unhandled.
  exit.catch(() => undefined);
  try {
    yield* jsonLinesToItems(readLines(tapChunks(child.stdout, tap)));
    const { code, signal } = await exit.catch((error: NodeJS.ErrnoException) => {
      throw startError(error, program);
    });
    if (code !== 0) throw exitError(program, code, signal, stderr.text());
  } finally {
    // The consumer stopped early (or reading failed): the program must not run on unobserved.
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

function startError(error: NodeJS.ErrnoException, program: string): Error {
  if (error.name === 'AbortError') return error;
  if (error.code === 'ENOENT') {
    return new UserError(
      `the source command "${program}" was not found (argv runs without a shell: give a path, or a program on PATH)`,
    );
  }
  return new UserError(`the source command "${program}" could not be started: ${error.message}`);
}

function exitError(
  program: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
): UserError {
  const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`;
  const tail =
    stderr.trim() === '' ? ' and printed nothing on stderr' : `; end of its stderr:\n${stderr.trimEnd()}`;
  return new UserError(`the source command "${program}" ${how}${tail}`);
}

/** Keeps only the last `limit` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.size -= (this.chunks.shift() as Buffer).length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

const commandSourceSchema = z.strictObject({
  type: z.literal('command'),
  /** argv array, never a shell string; stdout is read as JSON Lines. */
  argv: z.array(z.string()).min(1),
  ...sourceCommon,
});

/** The command source kind: a program's JSON Lines output, hashed as the bytes it printed. */
export const commandSourceKind: SourceKind<typeof commandSourceSchema> = {
  type: 'command',
  schema: commandSourceSchema,
  open: (spec, options) =>
    commandSource(spec.argv, { cwd: options.baseDir, env: options.env, signal: options.signal }),
  contentHash: (spec, options) => hashByReading(commandSourceKind.open(spec, options)),
  describe: (spec) => spec.type,
  fieldHelp: { argv: 'Command and arguments whose stdout is JSON Lines (never a shell string).' },
};
