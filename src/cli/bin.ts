#!/usr/bin/env node
// The `backfill` executable: everything else is in main.ts, which the demo and tests call in-process.
import { ExitCode } from './exitCodes';
import { main } from './main';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`backfill: ${String(error)}\n`);
    process.exitCode = ExitCode.internal;
  },
);
