/**
 * What a caller (the command line, the extension through it) hands the runner: the runbook, the resolved
 * job and environment, what kind of run, and the hooks it is told through. This file cannot depend on
 * the vscode API.
 */
import type { ResolvedEnvironment } from '../job/environment';
import type { JobFingerprint } from '../job/fingerprint';
import type { Runbook } from '../format/runbook';
import type { Result } from '../format/schemas';
import type { ResolvedJob } from '../job/job';
import type { Ledger } from '../ledger/ledger';
import type { SharedRunOptions } from '../fleet/sharedRun';
import type { Clock } from './clock';
import type { GateDecision } from './gate';
import type { MetricsAddress } from './metricsServer';
import type { RunEvent, RunPlan } from './runEvents';

export interface RunOptions {
  runbook: Runbook;
  job: ResolvedJob;
  environment: ResolvedEnvironment;
  /** `verify` for a verify cell (its job carries the check): reads end states, sends no action. */
  mode: 'execute' | 'production' | 'verify';
  secretValues: Record<string, string | undefined>;
  operator: string;
  /** Start a new run chain instead of resuming or refusing. */
  restart?: boolean;
  /** Re-run exactly the records that failed (could not be checked, for a verification) in the latest chain. */
  onlyFailed?: boolean;
  /**
   * Send records another execute cell of the runbook already delivered (a small batch before the full
   * run) instead of skipping them; the cell's `resend: delivered` asks the same.
   */
  resendDelivered?: boolean;
  /**
   * An execute cell: re-run exactly the records the latest verification of its job found mismatched or
   * missing (the gaps). A verify cell: re-check exactly the records its latest chain did not verify.
   */
  onlyUnverified?: boolean;
  /** Gates that need the fingerprint and the ledger (production); checked after the lock is taken. */
  gate?: (fingerprint: JobFingerprint, ledger: Ledger) => Promise<GateDecision>;
  /** Called once the plan is known, before the first record is sent. */
  onPlan?: (plan: RunPlan) => void;
  /**
   * Called once the run ended and its outcome is in the ledger, with the cell's result block as the ledger
   * has it — from the ledger the run already holds, so writing the block needs no second load of it.
   */
  onResult?: (result: Result) => void;
  onEvent?: (event: RunEvent) => void;
  /** Serve Prometheus metrics there while the run goes (`--metrics-port`, `--metrics-host`). */
  metrics?: MetricsAddress;
  /** Aborting it is a stop: the same as `backfill control FILE stop`. */
  signal?: AbortSignal;
  clock?: Clock;
  /**
   * A run shared by workers through a PostgreSQL ledger: split into chunks this process claims like any
   * worker (set by the runner when the environment's ledger is in PostgreSQL).
   */
  shared?: SharedRunOptions;
  /** Told which chunk this process works on in a shared run (undefined: none): the fleet's seam. */
  onChunk?: (chunk: number | undefined) => void;
  /** Tests only, never set by the CLI or the extension: the dispatcher forgets the records it names. */
  testDropRecord?: (key: string) => boolean;
}
