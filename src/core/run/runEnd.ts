/**
 * The end of a run: judged (verdict.ts decides, from the counts gathered here), recorded in the ledger,
 * its final status written and its finish event emitted. Also the end of a run that failed after its
 * start, and of one whose state folder stopped taking writes. Run (run.ts) hands over what it holds at
 * the moment it ends.
 *
 * This file cannot depend on the vscode API.
 */
import { envArgument } from '../job/environment';
import type { Redactor } from '../secrets/secrets';
import type { Dispatcher } from './dispatcher';
import type { FailedRecord, FailureTally } from './failureReasons';
import type { LiveCounters } from './liveStatus';
import type { OutcomeRecorder } from './outcomeRecorder';
import type { PreparedUnit } from '../attempts/attemptStrategy';
import type { RunRecord } from '../model/runs';
import type { Rejudge, RunEvent, RunResult } from './runEvents';
import type { RunOptions } from './runOptions';
import { writeStatus, type RunState, type RunStatus } from './runStatus';
import { emptySelectionReason, type SelectionAccounting } from './selectionAccounting';
import type { SharedRunEnd } from './sharedRunEnd';
import { sumOf } from './statusCounts';
import type { Thresholds } from './thresholds';
import { decideVerdict, endOfRunCounts, unrecordedVerdict, type RunKind, type Verdict } from './verdict';

/** What a run's end reads of the run, as it is when it ends. */
export interface EndingRun {
  kind: RunKind;
  options: RunOptions;
  stateDir: string;
  record: RunRecord;
  recorder: OutcomeRecorder;
  dispatcher: Pick<Dispatcher<PreparedUnit>, 'stopping' | 'stopReason'>;
  counters: LiveCounters;
  failures: FailureTally;
  accounting: SelectionAccounting;
  redactor: Redactor;
  thresholds: Thresholds;
  /** The run re-sends (re-checks) chosen records only: it is judged on them alone. */
  rerun: boolean;
  /** A worker of a shared run (workerShare.ts): it reads only its chunks. */
  worker: boolean;
  /** The whole fleet's counts, when this worker finished the shared run's last chunk. */
  fleetEnd: SharedRunEnd | undefined;
  status(state?: RunState): RunStatus;
  emit(event: RunEvent): void;
}

export class RunEnd {
  constructor(private readonly run: EndingRun) {}

  /** Judges the run, records its end and reports it; `rejudged`: judged again with changed thresholds. */
  async finish(rejudged?: Rejudge): Promise<RunResult> {
    const { recorder, dispatcher, counters, kind } = this.run;
    if (recorder.failed) return this.unrecorded();
    const halted = dispatcher.stopping;
    const status = this.run.status();
    // A re-send of chosen records is judged on its own records: one failure in three is no success,
    // however well the rest of the chain went.
    const fleet = this.run.fleetEnd;
    const totals = fleet?.totals ?? (this.run.rerun ? counters.own() : counters.totals());
    // A worker reads only its chunks: the books it could balance are its own, not the run's.
    const unaccounted =
      halted || rejudged || this.run.worker
        ? undefined
        : this.run.accounting.problem({ outcomes: sumOf(counters.own()), skipped: counters.skipped });
    const empty = emptySelectionReason(sumOf(totals), fleet?.skipped ?? counters.skipped);
    const verdict = decideVerdict({
      kind,
      halted,
      haltReason: dispatcher.stopReason,
      totals,
      ...this.run.thresholds,
      listRejected: this.ledgerCommand('rejected'),
      ...(unaccounted ? { unaccounted } : {}),
      ...(empty ? { empty } : {}),
    });
    const endedAt = new Date().toISOString();
    const counts = endOfRunCounts(
      kind,
      fleet?.own ?? counters.own(),
      fleet ? { ...status, skipped: fleet.skipped, done: sumOf(fleet.totals) } : status,
      this.run.failures.firstFailed(),
    );
    if (!(await recorder.finish(verdict.outcome, verdict.reason, counts, endedAt))) {
      return this.unrecorded();
    }
    const result = this.ended(verdict, verdict.outcome === 'halted' ? 'halted' : 'finished', endedAt, true);
    if (rejudged) return { ...result, rejudged };
    return empty && verdict.outcome !== 'halted' ? { ...result, empty: true } : result;
  }

  /**
   * The end of a run whose state folder stopped taking writes: halted, resumable, and nothing more is
   * written there. What was checkpointed before the failure is in the journal; the next run folds it.
   */
  unrecorded(): RunResult {
    const verdict = unrecordedVerdict(this.run.stateDir, this.run.dispatcher.stopReason);
    return this.ended(verdict, 'halted', new Date().toISOString(), false);
  }

  /** The final status (written when the state folder takes it), the finish event, the result. */
  ended(verdict: Verdict, state: RunState, at: string, writable: boolean): RunResult {
    const { outcome, reason } = verdict;
    const final = { ...this.run.status(state), outcome, ...(reason ? { reason } : {}) };
    if (writable) writeStatus(this.run.stateDir, final);
    this.run.emit({ type: 'finish', at, outcome, status: final, ...this.firstFailed() });
    return { outcome, ...(reason ? { reason } : {}), status: final, ...this.firstFailed() };
  }

  /**
   * Records the end of a run that failed after its start: halted, resumable, with the reason, and the
   * final status written. Does nothing when the ledger no longer takes writes (its failure is the reason).
   */
  async afterFailure(error: unknown): Promise<void> {
    const { recorder, stateDir } = this.run;
    if (recorder.failed) return;
    const why = this.run.redactor.redact(error instanceof Error ? error.message : String(error));
    const reason = `the run stopped: ${why}; fix that, then run the same command to resume`;
    const endedAt = new Date().toISOString();
    const status = this.run.status('halted');
    const counts = endOfRunCounts(
      this.run.kind,
      this.run.counters.own(),
      status,
      this.run.failures.firstFailed(),
    );
    try {
      if (await recorder.finish('halted', reason, counts, endedAt)) {
        writeStatus(stateDir, { ...status, outcome: 'halted', reason });
      }
    } catch {
      // The error that stopped the run is the one to report; its end is then marked crashed as before.
    }
  }

  /** `backfill ledger orders.backfill --cell full --status rejected`, `--env` named when not the default. */
  private ledgerCommand(status: string): string {
    const { runbook, environment } = this.run.options;
    const env = envArgument(runbook.header, environment.name);
    return `backfill ledger ${runbook.file} --cell ${this.run.record.cell}${env} --status ${status}`;
  }

  /** The first records this run saw fail, with their reasons; nothing when none failed. */
  private firstFailed(): { firstFailed?: FailedRecord[] } {
    const first = this.run.failures.firstFailed();
    return first.length > 0 ? { firstFailed: first } : {};
  }
}
