/**
 * This worker's share of a run shared through a PostgreSQL ledger (options.shared), as the run drives it:
 * the run's creator records the run with its chunks; each worker connects to the chunks and feeds only
 * the ones it claims (fleet/chunkWork.ts); at the end the worker that finished the last chunk judges the
 * whole run from the ledger, the others report the verdict it recorded, and a worker that was stopped
 * gives its chunks back. The ledger's side of a shared run is sharedRunWork.ts and sharedRunEnd.ts.
 *
 * This file cannot depend on the vscode API.
 */
import * as fs from 'node:fs';
import type { PreparedUnit } from '../attempts/attemptStrategy';
import type { ChunkLeases } from '../fleet/chunkLeases';
import type { ChunkWork } from '../fleet/chunkWork';
import type { FleetMember } from '../fleet/fleetMember';
import { PostgresLedger } from '../ledger/postgresLedger';
import type { RunRecord } from '../model/runs';
import type { OpenSourceOptions } from '../sources/openSource';
import { openSource } from '../sources/openSource';
import type { Dispatcher } from './dispatcher';
import type { OutcomeRecorder } from './outcomeRecorder';
import type { ResumePlan } from './resumePlan';
import type { RunOptions } from './runOptions';
import type { RunState } from './runStatus';
import { sharedRunEnd, type SharedRunEnd } from './sharedRunEnd';
import { connectChunkWork, startSharedRun, verdictRecordedElsewhere } from './sharedRunWork';
import type { Verdict } from './verdict';

/** What a worker's share needs of the run it is part of. */
export interface SharingRun {
  options: RunOptions;
  record: RunRecord;
  recorder: OutcomeRecorder;
  dispatcher: Dispatcher<PreparedUnit>;
  /** This host's halt file: it stops this worker only. */
  haltFile: string;
  /** The run as a member of its fleet, once it joined (after its share connected). */
  fleet(): FleetMember | undefined;
}

/**
 * How this worker's share ended, for the run to record and report: judge the run here (by the whole
 * fleet's counts when {@link WorkerShare.fleetEnd} is set), end it unrecorded (the ledger took no more
 * writes), or end it with a verdict judged elsewhere or a halt.
 */
export type ShareEnd =
  { type: 'judge' } | { type: 'unrecorded' } | { type: 'ended'; verdict: Verdict; state: RunState };

/** A shared run's creator: records the run's start and cuts its source into chunks (sharedRunWork.ts). */
export async function createChunks(
  run: Pick<SharingRun, 'options' | 'record' | 'recorder'>,
  sourceOptions: Pick<OpenSourceOptions, 'connection' | 'location' | 'pin'>,
): Promise<void> {
  const shared = run.options.shared;
  const ledger = run.recorder.ledger;
  if (!shared || !(ledger instanceof PostgresLedger)) return;
  const { job, runbook } = run.options;
  await startSharedRun(ledger, shared, run.record, job.source, (seek) =>
    openSource(job.source, {
      baseDir: runbook.baseDir,
      sourceLine: job.sourceLine,
      ...sourceOptions,
      ...(seek ? { seek } : {}),
    }),
  );
}

export class WorkerShare {
  /** The whole fleet's counts, read from the ledger by the worker that finished the last chunk. */
  fleetEnd: SharedRunEnd | undefined;

  private constructor(
    private readonly run: SharingRun,
    private readonly leases: ChunkLeases,
    readonly work: ChunkWork,
  ) {}

  /** Connects this worker to the run's chunks: from now on the feed reads only the chunks it claims. */
  static async connect(run: SharingRun, plan: ResumePlan): Promise<WorkerShare> {
    const { leases, work } = await connectChunkWork(run.options.shared!, {
      record: run.record,
      plan,
      source: run.options.job.source,
      flush: async () => {
        await run.recorder.flush();
        if (run.recorder.failed) throw new Error('the outcomes of the chunk were not committed');
      },
      stop: (reason) => run.dispatcher.stop(reason),
      stopped: run.dispatcher.stopSignal,
      onChunk: (n) => run.fleet()?.setChunk(n),
      onWaiting: (waiting) => run.fleet()?.setWaiting(waiting),
      ledger: run.recorder.ledger,
    });
    return new WorkerShare(run, leases, work);
  }

  /**
   * The end of this worker's share. Stopped: its chunks go back for the others (or a resume), and the
   * run is recorded as halted unless this worker only left (a signal, its host's halt file) or the run
   * already ended elsewhere. Out of chunks: the worker that marked the last one done judges the whole run from the
   * ledger and records its end; the others wait for that record and report it.
   */
  async end(): Promise<ShareEnd> {
    const { dispatcher, recorder, options, record } = this.run;
    await this.work.settled();
    this.haltIfUnaccounted();
    await this.work.leave();
    if (recorder.failed) return { type: 'unrecorded' };
    const ended = this.work.endedElsewhere;
    // Every chunk done and judged by the worker that finished the last one: nothing was cut short here.
    const judgedElsewhere = ended === 'succeeded' || ended === 'below-threshold';
    if (dispatcher.stopping && !judgedElsewhere) {
      // A signal or this host's halt file stops this worker only: the others go on with its chunks, and
      // the last one to stop halts the run.
      const thisHostOnly = options.signal?.aborted || fs.existsSync(this.run.haltFile);
      const left = thisHostOnly && (await this.work.othersAtWork());
      if (ended === undefined && !left) return { type: 'judge' };
      const reason = dispatcher.stopReason ?? 'this worker was stopped';
      return { type: 'ended', verdict: { outcome: 'halted', reason }, state: 'halted' };
    }
    if (this.work.finishedLastChunk) {
      this.fleetEnd = await sharedRunEnd(recorder.ledger, record);
      return { type: 'judge' };
    }
    const verdict = await verdictRecordedElsewhere(
      this.leases,
      recorder.ledger,
      record,
      options.runbook.file,
    );
    return { type: 'ended', verdict, state: verdict.outcome === 'halted' ? 'halted' : 'finished' };
  }

  /** Gives back the chunks not done and closes the leases' connection: after the run, whatever happened. */
  async close(): Promise<void> {
    await this.work.leave();
    await this.leases.close();
  }

  /**
   * Records fed but never given an outcome keep their chunks from being done: the run halts saying so
   * (and is resumed), rather than waiting for an end no worker will record.
   */
  private haltIfUnaccounted(): void {
    const missing = this.work.unaccounted();
    if (missing.records <= 0) return;
    const { file } = this.run.options.runbook;
    const chunks = missing.chunks.length === 1 ? 'its chunk' : 'their chunks';
    this.run.dispatcher.stop(
      `unaccounted records: ${missing.records} of the records this worker read have no outcome ` +
        `(${chunks} ${missing.chunks.join(', ')} cannot be marked done) — this is a bug, please report it. ` +
        `The run halted instead of finishing: run backfill run ${file} --cell ${this.run.record.cell} again to send them`,
    );
  }
}
