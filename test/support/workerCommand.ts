import { STATE_DIR_VARIABLE } from '../../src/core/ledger/statePaths';
import { LEDGER_SECRET } from './sharedLedgerRunbook';

/**
 * The worker's command line, `backfill worker FILE --cell ID --env NAME`: what the deploy/ manifests
 * run (test/deploy/deploy.test.ts checks them against it) and what test/cli/deployedWorker.test.ts
 * starts. One definition, so the two cannot drift apart.
 */
export function workerArgs(file: string, cell: string, env: string): string[] {
  return ['worker', file, '--cell', cell, '--env', env];
}

/**
 * The whole environment the manifests give a worker: the ledger URL (a secret) and the writable folder
 * for its state folder, the runbook's own folder being read-only there. The deploy test checks the
 * manifests name exactly these variables; the deployed-worker test runs with nothing else.
 */
export function workerEnvironment(ledgerUrl: string, stateDir: string): Record<string, string> {
  return { [LEDGER_SECRET]: ledgerUrl, [STATE_DIR_VARIABLE]: stateDir };
}
