/**
 * The status of a run as other processes see it: `<runbook>.d/status.json`, rewritten atomically about
 * once a second by the runner, read by `backfill status`, the extension and the metrics endpoint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FailureReason } from './failureReasons';
import type { ErrorKind, RunMode, RunRecord } from '../model/runs';

export type RunState = 'running' | 'paused' | 'stopping' | 'halted' | 'finished';

/** How many checked records a verification found in each category. */
export interface VerificationCounts {
  verified: number;
  mismatch: number;
  missing: number;
  error: number;
}

export interface RunStatus {
  run: string;
  chain: string;
  cell: string;
  mode: RunMode;
  environment: string;
  /** The environment is marked production: a verification there too is shown as production. */
  production?: boolean;
  pid: number;
  host: string;
  state: RunState;
  startedAt: string;
  updatedAt: string;
  /** Records the run chain will process in all, when known (from the matching dry run). */
  total?: number;
  /**
   * Records the cell selects to send, as its dry run and the run's confirmation count them (malformed
   * rows are not among them): what people read the progress against (statusFigures.ts).
   */
  selected?: number;
  /** Records with a final outcome in this chain, including earlier runs of the chain. */
  done: number;
  succeeded: number;
  failed: number;
  rejected: number;
  /** A verification's records by category, including earlier runs of the chain. */
  verification?: VerificationCounts;
  /** Records skipped because an earlier run of the chain already finished them (or another cell did). */
  skipped: number;
  /** Of the skipped records, those another execute cell delivered, by that cell (deliveredElsewhere.ts). */
  doneElsewhere?: Record<string, number>;
  inFlight: number;
  rate: { now: number; average: number; configured: number; effective: number };
  concurrency: number;
  latencyMs: { p50: number; p95: number; p99: number };
  errorsByKind: Partial<Record<ErrorKind, number>>;
  /** This run's top failure reasons, each with a count and a sample key (failureReasons.ts). */
  failures?: FailureReason[];
  etaSeconds?: number;
  /** What the run waits for before it sends more, while it waits: its ledger's database, gone away. */
  waiting?: string;
  /** Why the run halted or how it finished. */
  reason?: string;
  outcome?: string;
}

export function statusFile(stateDir: string): string {
  return path.join(stateDir, 'status.json');
}

export function writeStatus(stateDir: string, status: RunStatus): void {
  const file = statusFile(stateDir);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(status));
  fs.renameSync(temporary, file);
}

/** Reads a run's status as people see it: latencies rounded to 0.1 ms (see {@link roundLatency}). */
export function readStatus(stateDir: string): RunStatus | undefined {
  let status: RunStatus;
  try {
    status = JSON.parse(fs.readFileSync(statusFile(stateDir), 'utf8')) as RunStatus;
  } catch {
    return undefined;
  }
  return status.latencyMs ? { ...status, latencyMs: roundLatency(status.latencyMs) } : status;
}

/** Latency quantiles to 0.1 ms: `p50 10.9 ms`, not the estimator's 10.860770382048289. */
export function roundLatency(latency: RunStatus['latencyMs']): RunStatus['latencyMs'] {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { p50: round(latency.p50), p95: round(latency.p95), p99: round(latency.p99) };
}

/** True when the process that wrote the status is still alive on this host. */
export function isLive(status: RunStatus, host: string): boolean {
  if (status.host !== host) return status.state === 'running' || status.state === 'paused';
  try {
    process.kill(status.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The state to show for a run the ledger holds. A run still marked `running` whose runner is gone
 * (kill -9, a crash, a reboot) is "crashed (no process)": what it recorded is shown all the same, and the
 * next run of the cell marks it crashed and resumes it.
 */
export function shownRunState(run: RunRecord, live: RunStatus | undefined, host: string): string {
  if (run.outcome !== 'running') return run.outcome;
  return live?.run === run.id && isLive(live, host) ? 'running' : 'crashed (no process)';
}
