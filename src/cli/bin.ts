#!/usr/bin/env node
// The `backfill` executable, a launcher. Everything is in main.ts, which the demo and tests call
// in-process, except the common forms of `control`: a stop typed while a run is going must not wait for
// the whole command line to load. The build makes both imports below requires of their own bundles
// (dist/cli-main.js, dist/control.js), so `control` loads only its own small one.
import { setFlagsFromString } from 'node:v8';
import { ExitCode } from './exitCodes';

// A reader that goes away (`backfill ledger FILE | head`) is not a failure of the command: the rest
// of the output has nowhere to go, but a run in progress must finish and checkpoint, not crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

/**
 * Commands that run for minutes keep V8's optimising tier for sql.js's WebAssembly; the short ones
 * (`status`, `ledger`, `report`…) use only the baseline compiler: optimising sql.js in the background
 * made `status` wait half a second at exit for work it never needed, and hold 40 MB more.
 */
const LONG_RUNNING = new Set(['run', 'worker', 'dry-run']);

async function backfill(argv: string[]): Promise<number> {
  if (!LONG_RUNNING.has(argv[2] ?? '')) setFlagsFromString('--liftoff-only');
  if (argv[2] === 'control') {
    const { tryControlFastPath } = await import('./commands/controlCommand');
    const code = tryControlFastPath(argv.slice(3));
    if (code !== undefined) return code;
  }
  const { main } = await import('./main');
  return main(argv);
}

backfill(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`backfill: ${String(error)}\n`);
    process.exitCode = ExitCode.internal;
  },
);
