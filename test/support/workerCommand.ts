/**
 * The worker's command line, `backfill worker FILE --cell ID --env NAME`: what the deploy/ manifests
 * run (test/deploy/deploy.test.ts checks them against it) and what the worker tests start. One
 * definition, so the two cannot drift apart.
 */
export function workerArgs(file: string, cell: string, env: string): string[] {
  return ['worker', file, '--cell', cell, '--env', env];
}
