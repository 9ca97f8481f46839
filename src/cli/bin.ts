#!/usr/bin/env node
// The `backfill` executable, a launcher. Everything is in main.ts, which the demo and tests call
// in-process, except the common forms of `control`: a stop typed while a run is going must not wait for
// the whole command line to load. The build makes both imports below requires of their own bundles
// (dist/cli-main.js, dist/control.js), so `control` loads only its own small one.
import { ExitCode } from './exitCodes';

// A reader that goes away (`backfill ledger FILE | head`) is not a failure of the command: the rest
// of the output has nowhere to go, but a run in progress must finish and checkpoint, not crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

async function backfill(argv: string[]): Promise<number> {
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
