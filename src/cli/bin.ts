#!/usr/bin/env node
// The `backfill` executable: everything else is in main.ts, which the demo and tests call in-process.
import { ExitCode } from './exitCodes';
import { main } from './main';

// A reader that goes away (`backfill ledger FILE | head`) is not a failure of the command: the rest
// of the output has nowhere to go, but a run in progress must finish and checkpoint, not crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`backfill: ${String(error)}\n`);
    process.exitCode = ExitCode.internal;
  },
);
