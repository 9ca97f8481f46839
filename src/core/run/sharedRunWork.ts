/**
 * The parts of a run shared by workers through a PostgreSQL ledger that the run itself does not own:
 * recording a new shared run with its chunks, connecting one worker to those chunks, and waiting for
 * the worker that finished the last chunk to record the run's end. Claims, leases and reading a chunk's
 * records are in ../fleet.
 *
 * This file cannot depend on the vscode API.
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { chunkingOf, cutIntoChunks } from '../fleet/chunkRanges';
import { ChunkLeases, insertChunks } from '../fleet/chunkLeases';
import { ChunkWork } from '../fleet/chunkWork';
import type { SharedRunOptions } from '../fleet/sharedRun';
import type { Ledger } from '../ledger/ledger';
import { PostgresLedger } from '../ledger/postgresLedger';
import type { RunRecord } from '../model/runs';
import type { SourceItem } from '../model/types';
import type { SourceSpec } from '../sources/sourceKinds';
import type { SourceSeek } from '../sources/sourceSeek';
import type { ResumePlan } from './resumePlan';
import type { Verdict } from './verdict';

/**
 * Records a new shared run's start and its chunks in one transaction, so no worker ever sees the run
 * without its chunks. `open` reads the source once, to cut it as its kind asks (fleet/chunkRanges.ts).
 */
export async function startSharedRun(
  ledger: PostgresLedger,
  shared: SharedRunOptions,
  run: RunRecord,
  source: SourceSpec,
  open: (seek?: Pick<SourceSeek, 'marks'>) => AsyncIterable<SourceItem>,
): Promise<void> {
  const ranges = await cutIntoChunks(source, open, shared.settings.chunkSize, run.environment);
  const scope = { schema: shared.schema, ledger: shared.ledger, run: run.id };
  await ledger.transaction(async () => {
    await ledger.startRun(run);
    await insertChunks(ledger, scope, ranges);
  });
}

/** What a worker's chunks need from the run it works for. */
export interface ChunkWorkRun {
  record: RunRecord;
  plan: ResumePlan;
  source: { type: string };
  /** Commits every outcome recorded so far; throws when they could not be. */
  flush(): Promise<void>;
  /** Stops the run's dispatcher: nothing more is sent. */
  stop(reason: string): void;
  stopped: AbortSignal;
  /** The chunk this worker now works on, for the fleet's status. */
  onChunk(n: number | undefined): void;
  /** Nothing to claim until another worker's lease runs out, or working again: for the fleet's shares. */
  onWaiting(waiting: boolean): void;
  /** The ledger, whose outage allowance the chunk leases share. */
  ledger: unknown;
}

/** Connects this worker to the run's chunks: from then on the feed reads only the chunks it claims. */
export async function connectChunkWork(
  shared: SharedRunOptions,
  run: ChunkWorkRun,
): Promise<{ leases: ChunkLeases; work: ChunkWork }> {
  const { record, plan } = run;
  const scope = { schema: shared.schema, ledger: shared.ledger, run: record.id };
  const worker = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const outageMs = run.ledger instanceof PostgresLedger ? run.ledger.outageAllowanceMs : undefined;
  const leases = await ChunkLeases.connect(shared.url, scope, worker, shared.settings.leaseSeconds, outageMs);
  const work = new ChunkWork(
    leases,
    {
      chain: plan.chain.id,
      byKey: chunkingOf(run.source) === 'keys',
      doneKeys: finishedKeysAsSet(plan.doneKeys),
      flush: () => run.flush(),
      stopped: run.stopped,
      onRunEnded: (outcome) => run.stop(`run ${record.id} ended elsewhere (${outcome}): this worker stops`),
      onFailure: (error) =>
        run.stop(
          `the chunks of run ${record.id} could not be claimed or marked: ${(error as Error).message}; ` +
            'the chunks this worker held are taken over once their leases run out',
        ),
      onChunk: (n) => {
        shared.onChunk?.(n);
        run.onChunk(n);
      },
      onWaiting: (waiting) => run.onWaiting(waiting),
    },
    shared.settings.leaseSeconds,
  );
  return { leases, work };
}

/** Most time a worker waits for the worker that finished the last chunk to record the run's end. */
const RUN_END_WAIT_MS = 30_000;

/**
 * The verdict the worker that finished the last chunk recorded, for a worker that ran out of chunks
 * before: halted, saying how to record it, when no end is recorded within {@link RUN_END_WAIT_MS}.
 */
export async function verdictRecordedElsewhere(
  leases: ChunkLeases,
  ledger: Ledger,
  run: Pick<RunRecord, 'id' | 'cell'>,
  runbookFile: string,
): Promise<Verdict> {
  const outcome = await waitForRunEnd(leases);
  const final = (await ledger.runs(run.cell)).find((r) => r.id === run.id);
  if (outcome === 'running' || outcome === undefined || !final) {
    return {
      outcome: 'halted',
      reason: `every chunk of run ${run.id} is done, but its end was not recorded: run backfill run ${runbookFile} --cell ${run.cell} again to record it`,
    };
  }
  return { outcome: final.outcome as Verdict['outcome'], ...(final.reason ? { reason: final.reason } : {}) };
}

/** The run's outcome once it is no longer `running`, or as it is after {@link RUN_END_WAIT_MS}. */
async function waitForRunEnd(leases: ChunkLeases): Promise<string | undefined> {
  const deadline = Date.now() + RUN_END_WAIT_MS;
  for (;;) {
    const outcome = await leases.runOutcome();
    if (outcome !== 'running' || Date.now() > deadline) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A shared run's finished keys, which its plan holds as a Set (the plan loader is told so). */
function finishedKeysAsSet(keys: ResumePlan['doneKeys']): Set<string> {
  if (!(keys instanceof Set)) throw new Error('a shared run must hold its finished keys as a Set');
  return keys;
}
