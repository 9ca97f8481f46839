/**
 * The live counters of a run and the status built from them: what `backfill status` (status.json), the
 * progress events and the metrics endpoint read. Counts outcomes, skipped records, errors by kind,
 * latency and throughput; never decides anything. This file cannot depend on the vscode API.
 */
import type { StatusCounts } from '../ledger/ledger';
import type { Clock } from './clock';
import { LatencyHistogram } from './latencyHistogram';
import { LatencyStats, RateMeter } from './latencyStats';
import type { RunState, RunStatus } from './runStatus';
import { sumOf, verificationCounts, zeroCounts } from './statusCounts';
import {
  RECORD_STATUSES,
  type AttemptResult,
  type ErrorKind,
  type RecordStatus,
  type RunRecord,
} from '../model/runs';
import type { RunKind } from './verdict';

/** Error events per kind sent in full; after that, one in every SAMPLE_EVERY. */
const ERROR_SAMPLES_PER_KIND = 20;
const SAMPLE_EVERY = 1000;

/** What the status shows of the dispatcher. */
export interface DispatchView {
  readonly inFlight: number;
  readonly concurrency: number;
  readonly configuredRate: number;
  readonly effectiveRate: number;
  readonly stopReason: string | undefined;
}

/** What the status says about the run besides its counts. */
export interface StatusContext {
  kind: RunKind;
  /** Records the chain processes in all, when known. */
  total: number | undefined;
  /** Records the cell selects to send, when known exactly. */
  selected?: number | undefined;
  /** The run's state now; the dispatcher's unless the run has ended. */
  state: RunState;
}

export class LiveCounters {
  /** Outcomes this run recorded, by status. */
  private readonly counts: StatusCounts = zeroCounts();
  /** Records skipped because an earlier run of the chain finished them, or another cell delivered them. */
  private skippedRecords = 0;
  /** Of those, the records another execute cell delivered, by that cell. */
  private readonly doneElsewhere: Record<string, number> = {};
  private readonly errorsByKind: Partial<Record<ErrorKind, number>> = {};
  private readonly latency = new LatencyStats();
  /** The same latencies in Prometheus's buckets, for the metrics endpoint. */
  readonly latencyHistogram = new LatencyHistogram();
  private readonly meter: RateMeter;

  /** Outcomes of earlier runs of the chain, less the records this run re-runs. */
  private earlier: StatusCounts = zeroCounts();

  /** The rate meter starts now: the run's average rate counts from its start. */
  constructor(clock: Clock) {
    this.meter = new RateMeter(clock);
  }

  /**
   * The outcomes of earlier runs of the chain (less the records this run re-runs), once the resume plan
   * knows them: progress and the success threshold cover the whole chain.
   */
  setEarlier(earlier: StatusCounts): void {
    this.earlier = { ...earlier };
  }

  /**
   * Counts one attempt's result. True for a failure worth an error event: the first few of each kind,
   * then one in every thousand, so a target failing everything does not flood the events.
   */
  countAttempt(result: AttemptResult): boolean {
    this.latency.record(result.durationMs);
    this.latencyHistogram.record(result.durationMs);
    if (result.ok) return false;
    const seen = (this.errorsByKind[result.kind] ?? 0) + 1;
    this.errorsByKind[result.kind] = seen;
    return seen <= ERROR_SAMPLES_PER_KIND || seen % SAMPLE_EVERY === 0;
  }

  /** Counts a record's outcome after its attempts. */
  countOutcome(status: RecordStatus): void {
    this.meter.record(1);
    this.counts[status] += 1;
  }

  /** Counts a record refused before any attempt. */
  countRejected(): void {
    this.counts.rejected += 1;
  }

  /** Counts a record skipped because an earlier run of the chain finished it, or cell `by` delivered it. */
  countSkipped(by?: string): void {
    this.skippedRecords += 1;
    if (by !== undefined) this.doneElsewhere[by] = (this.doneElsewhere[by] ?? 0) + 1;
  }

  get skipped(): number {
    return this.skippedRecords;
  }

  /** This run's own outcomes, by status. */
  own(): StatusCounts {
    return { ...this.counts };
  }

  /** Outcomes of the whole chain so far: earlier runs and this one. */
  totals(): StatusCounts {
    const totals = zeroCounts();
    for (const status of RECORD_STATUSES) totals[status] = this.earlier[status] + this.counts[status];
    return totals;
  }

  /** The status of the run now. */
  status(run: RunRecord, dispatch: DispatchView, context: StatusContext): RunStatus {
    const totals = this.totals();
    const done = sumOf(totals);
    const rateNow = this.meter.rateNow();
    const { total } = context;
    const remaining = total !== undefined ? Math.max(0, total - done) : undefined;
    return {
      run: run.id,
      chain: run.chain,
      cell: run.cell,
      mode: run.mode,
      environment: run.environment,
      pid: process.pid,
      host: run.host,
      state: context.state,
      startedAt: run.startedAt,
      updatedAt: new Date().toISOString(),
      ...(total !== undefined ? { total } : {}),
      ...(context.selected !== undefined ? { selected: context.selected } : {}),
      done,
      succeeded: totals.succeeded,
      failed: totals.failed,
      rejected: totals.rejected,
      ...(context.kind === 'verify' ? { verification: verificationCounts(totals) } : {}),
      skipped: this.skippedRecords,
      ...(Object.keys(this.doneElsewhere).length > 0 ? { doneElsewhere: { ...this.doneElsewhere } } : {}),
      inFlight: dispatch.inFlight,
      rate: {
        now: round(rateNow),
        average: round(this.meter.average()),
        configured: dispatch.configuredRate,
        effective: round(dispatch.effectiveRate),
      },
      concurrency: dispatch.concurrency,
      latencyMs: {
        p50: this.latency.quantile(0.5),
        p95: this.latency.quantile(0.95),
        p99: this.latency.quantile(0.99),
      },
      errorsByKind: { ...this.errorsByKind },
      ...(remaining !== undefined && rateNow > 0 ? { etaSeconds: Math.round(remaining / rateNow) } : {}),
      ...(dispatch.stopReason ? { reason: dispatch.stopReason } : {}),
    };
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
