import { STATE_DIR_VARIABLE } from '../../src/core/ledger/statePaths';
import { LEDGER_SECRET } from './sharedLedgerRunbook';

/** Where a worker serves its Prometheus metrics: `--metrics-host ADDRESS --metrics-port PORT`. */
export interface WorkerMetrics {
  host: string;
  port: string;
}

/**
 * The worker's command line, `backfill worker FILE --cell ID --env NAME --metrics-host ADDRESS
 * --metrics-port PORT`: what the deploy/ manifests run (test/deploy/deploy.test.ts checks them against
 * it) and what test/cli/deployedWorker.test.ts starts. One definition, so the two cannot drift apart.
 * The manifests listen on 0.0.0.0, to be scraped from outside the pod or host; the test, which may
 * listen on 127.0.0.1 only, gives that address and a free port in the same two options.
 */
export function workerArgs(file: string, cell: string, env: string, metrics: WorkerMetrics): string[] {
  return [
    'worker',
    file,
    '--cell',
    cell,
    '--env',
    env,
    '--metrics-host',
    metrics.host,
    '--metrics-port',
    metrics.port,
  ];
}

/**
 * The whole environment the manifests give a worker: the ledger URL (a secret) and the writable folder
 * for its state folder, the runbook's own folder being read-only there. The deploy test checks the
 * manifests name exactly these variables; the deployed-worker test runs with nothing else.
 */
export function workerEnvironment(ledgerUrl: string, stateDir: string): Record<string, string> {
  return { [LEDGER_SECRET]: ledgerUrl, [STATE_DIR_VARIABLE]: stateDir };
}
