/**
 * One worker's share of a run shared through a PostgreSQL ledger: it claims chunks one after another
 * (of a file source, the next while it feeds the last lines of the current one, so the dispatcher does not
 * wait for a claim between two),
 * feeds the runner only the records of the chunks it holds, keeps their leases alive while it works, and
 * marks a chunk done once every record of it has an outcome committed — or gives its chunks back when it
 * stops. The worker that marks the last chunk done is the one that records the run's end.
 *
 * How the source is read for the chunks held (from a chunk's first byte, in line order, or by key range)
 * is chunkReading.ts. Records a chunk's earlier holder finished are skipped: their keys are read when the
 * chunk is claimed, so a takeover repeats only what was in flight, with the same idempotency key.
 *
 * This folder cannot depend on the vscode API.
 */
import type { ValidRecord, SourceItem } from '../model/types';
import { chunkOfLine } from './chunkRanges';
import type { ChunkLeases, ClaimedChunk } from './chunkLeases';
import {
  keyRangeItems,
  lineRangeItems,
  type ChunkCursor,
  type ChunkReading,
  type ReadChunk,
} from './chunkReading';
import { abortableSleep } from '../support/abortableSleep';

// Re-exported: the run's record feed (run/recordFeed.ts) and the fleet tests import it from here.

/** What the worker needs from the run it works for. */
export interface ChunkWorkHooks {
  /** The run's chain: finished keys are read from it. */
  chain: string;
  /** Keys the feed skips as finished; a claim adds the keys its chunk already has outcomes for. */
  doneKeys: Set<string>;
  /** Resolves once every outcome recorded so far is committed. */
  flush(): Promise<void>;
  /** Set when stopping: no more chunks are claimed. */
  stopped: AbortSignal;
  /** The run ended elsewhere (halted by another worker, or marked crashed by a resume): stop working. */
  onRunEnded(outcome: string): void;
  /** Something went wrong with the chunks table: the worker stops, its chunks go back. */
  onFailure(error: unknown): void;
  /** The chunk this worker now works on (undefined: none), for a fleet status to show. */
  onChunk?: (chunk: number | undefined) => void;
  /** Nothing to claim until another worker's lease runs out (true), or a chunk claimed again (false). */
  onWaiting?: (waiting: boolean) => void;
  /** The run's chunks are ranges of a database source's keys, each read alone (chunkRanges.ts). */
  byKey?: boolean;
}

/** A chunk held, and how far its records got. */
interface HeldChunk extends ReadChunk {
  /** Units handed to the dispatcher. */
  prepared: number;
  /** Of those, the ones whose outcome is recorded. */
  recorded: number;
  /** The feed read past its last line: no more unit of it will come. */
  fed: boolean;
  /** Being marked done. */
  marking: boolean;
}

/** The next chunk is claimed once the feed is in the last 1/CLAIM_AHEAD_DIVISOR of the current one. */
const CLAIM_AHEAD_DIVISOR = 10;
/** Most time between two looks at the chunks while waiting for another worker's lease to run out. */
const WAIT_MS = 1000;
/** Most time between two renewals: also how soon a worker notices the run ended elsewhere. */
const RENEW_MS = 1000;

export class ChunkWork {
  private readonly held = new Map<number, HeldChunk>();
  private readonly marks = new Set<Promise<void>>();
  private renewal: NodeJS.Timeout | undefined;
  private renewing = false;
  private position = 0;
  private lastDone = false;
  /**
   * Starts true: a member takes no share of the fleet's rate until it has a unit to send — not when it
   * claims a chunk: reading the chunk's finished keys, opening the source there and the first records
   * take a worker still starting a few hundred milliseconds, while the others already sent at the
   * lowered share (measured: 0.2–0.6 s from claim to first arrival, load 8).
   */
  private waiting = true;
  /** The chunk after the current one, being claimed (or claimed) while the current one is fed. */
  private ahead: Promise<HeldChunk | undefined> | undefined;
  private ended: string | undefined;
  /** Chunks claimed, and of them taken over from another worker: for the worker's report. */
  readonly tally = { claimed: 0, takenOver: 0, done: 0 };

  constructor(
    private readonly leases: ChunkLeases,
    private readonly hooks: ChunkWorkHooks,
    leaseSeconds: number,
  ) {
    // At most a third of the lease, so two renewals can fail (a slow database, a pause) before it runs
    // out; and at least once a second, since a renewal is also how a worker learns the run was halted
    // elsewhere (a worker's error budget, a stop on another host).
    this.renewal = setInterval(
      () => void this.renew(),
      Math.min(RENEW_MS, Math.max(200, (leaseSeconds * 1000) / 3)),
    );
    this.renewal.unref();
  }

  /** True once this worker marked the run's last chunk done: it records the run's end. */
  get finishedLastChunk(): boolean {
    return this.lastDone;
  }

  /** How the run ended elsewhere, when it did. */
  get endedElsewhere(): string | undefined {
    return this.ended;
  }

  /**
   * The source's items restricted to the chunks this worker claims, claiming the next chunk as the read
   * passes the end of one, until no chunk is left (or the run stops). `open` opens the source afresh:
   * from its start, only a range of its keys, or from a line start of its file.
   */
  items(open: (where?: ChunkReading) => AsyncIterable<SourceItem>): AsyncGenerator<SourceItem> {
    // The reading moves through chunks as this worker claims them; claiming stays private to it.
    const chunks: ChunkCursor<HeldChunk> = {
      next: () => this.next(),
      fed: (chunk) => this.fed(chunk),
      claimAhead: () => this.claimAhead(),
    };
    return this.hooks.byKey
      ? keyRangeItems(chunks, (keys) => open({ keys }))
      : lineRangeItems(chunks, (from) => open(from ? { from } : undefined));
  }

  /**
   * Wraps the strategy's `prepare` to count the units each chunk hands to the dispatcher; the first unit
   * after a wait takes this member's share of the fleet's rate again.
   */
  counting<U>(strategy: {
    batchSize: number;
    prepare(record: ValidRecord, key: string): { ok: true; value: U } | { ok: false; reason: string };
  }): typeof strategy {
    return {
      batchSize: strategy.batchSize,
      prepare: (record, key) => {
        const prepared = strategy.prepare(record, key);
        if (prepared.ok) {
          const chunk = chunkOfLine(this.held.values(), record.line);
          if (chunk) chunk.prepared += 1;
          if (this.waiting) this.waitingFor(false);
        }
        return prepared;
      },
    };
  }

  /** A unit's outcome was recorded (not yet committed). */
  recorded(line: number): void {
    const chunk = chunkOfLine(this.held.values(), line);
    if (!chunk) return;
    chunk.recorded += 1;
    this.markIfComplete(chunk);
  }

  /**
   * The records this worker handed to be sent from chunks it fed whole, whose outcomes never came (a
   * dispatcher that lost them): those chunks can never be marked done. Ask after {@link settled}, before
   * {@link leave} gives them back.
   */
  unaccounted(): { records: number; chunks: number[] } {
    const open = [...this.held.values()].filter(
      (chunk) => chunk.fed && !chunk.marking && !chunk.lost && chunk.recorded < chunk.prepared,
    );
    const records = open.reduce((sum, chunk) => sum + chunk.prepared - chunk.recorded, 0);
    return { records, chunks: open.map((chunk) => chunk.n) };
  }

  /** Resolves once every chunk found complete so far is marked done. */
  async settled(): Promise<void> {
    while (this.marks.size > 0) await Promise.all([...this.marks]);
  }

  /** Stops renewing and gives back the chunks not done, so other workers claim them at once. Idempotent. */
  async leave(): Promise<void> {
    clearInterval(this.renewal);
    this.renewal = undefined;
    // A chunk being claimed ahead is held once the claim returns: it goes back with the others.
    await this.ahead;
    await this.settled();
    const open = [...this.held.values()]
      .filter((chunk) => !chunk.marking && !chunk.lost)
      .map((chunk) => chunk.n);
    this.held.clear();
    this.hooks.onChunk?.(undefined);
    await this.leases.release(open).catch(() => undefined); // their leases run out anyway
  }

  /**
   * Whether other workers are at the run, for a worker that leaves: one holds a lease, or claims one of
   * the chunks this one gave back within a look of a waiting worker (they look every second).
   */
  async othersAtWork(): Promise<boolean> {
    if ((await this.leases.remaining()).heldElsewhere > 0) return true;
    await new Promise((resolve) => setTimeout(resolve, WAIT_MS + 500));
    return (await this.leases.remaining()).heldElsewhere > 0;
  }

  /**
   * The next chunk to work on: the one claimed ahead while the previous one was fed, or one claimed now,
   * waiting while only other workers' chunks are open; undefined: none left. The chunk after it is then
   * claimed ahead, so the feed never waits for the database between two chunks.
   */
  private async next(): Promise<HeldChunk | undefined> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const chunk = (ahead && (await ahead)) ?? (await this.claimOrWait());
    if (chunk) this.hooks.onChunk?.(chunk.n);
    return chunk;
  }

  /**
   * Claims the chunk after the current one while the current one's last lines are fed. Not sooner: a
   * chunk held ahead is one no other worker can take, and with few big chunks a worker holding two
   * would leave another idle.
   */
  private claimAhead(): void {
    if (this.ahead || this.hooks.stopped.aborted) return;
    this.ahead = this.claimOne();
  }

  /** A chunk claimed now, waiting while only other workers' chunks are open; undefined: none left. */
  private async claimOrWait(): Promise<HeldChunk | undefined> {
    for (;;) {
      if (this.hooks.stopped.aborted) return undefined;
      const chunk = await this.claimOne();
      if (chunk || this.hooks.stopped.aborted) return chunk;
      try {
        const left = await this.leases.remaining();
        if (left.runOutcome !== 'running') {
          if (left.runOutcome !== undefined) this.runEnded(left.runOutcome);
          return undefined;
        }
        // Only this worker's own chunks are open: they finish with the units already fed.
        if (left.heldElsewhere === 0) return undefined;
        // Every chunk held here is fed whole: what is left of them is in flight and needs no more rate,
        // so the others share it without this worker now, not once those last units have outcomes.
        if ([...this.held.values()].every((held) => held.fed)) this.waitingFor(true);
        await abortableSleep(Math.min(WAIT_MS, (left.soonestExpiryMs ?? WAIT_MS) + 50), this.hooks.stopped);
      } catch (error) {
        this.hooks.onFailure(error);
        return undefined;
      }
    }
  }

  /**
   * One claim, with the finished keys of the chunk claimed; undefined when nothing can be claimed now (or
   * the claim failed: the worker is then stopping).
   */
  private async claimOne(): Promise<HeldChunk | undefined> {
    let claimed: ClaimedChunk | undefined;
    try {
      claimed = await this.leases.claim(this.position, this.hooks.byKey);
    } catch (error) {
      this.hooks.onFailure(error);
      return undefined;
    }
    if (!claimed) return undefined;
    const chunk: HeldChunk = {
      ...claimed,
      claimAheadAt:
        claimed.lastLine - Math.floor((claimed.lastLine - claimed.firstLine) / CLAIM_AHEAD_DIVISOR),
      prepared: 0,
      recorded: 0,
      fed: false,
      marking: false,
      lost: false,
    };
    this.held.set(chunk.n, chunk);
    this.position = chunk.n + 1;
    this.tally.claimed += 1;
    if (chunk.claims > 1) this.tally.takenOver += 1;
    try {
      // Finished by an earlier holder of the chunk (or an earlier run of the chain): skipped.
      for (const key of await this.leases.finishedKeys(this.hooks.chain, chunk)) this.hooks.doneKeys.add(key);
    } catch (error) {
      this.hooks.onFailure(error);
      return undefined;
    }
    return chunk;
  }

  private waitingFor(waiting: boolean): void {
    if (waiting === this.waiting) return;
    this.waiting = waiting;
    this.hooks.onWaiting?.(waiting);
  }

  /** The feed read past the chunk's last line. */
  private fed(chunk: HeldChunk): void {
    chunk.fed = true;
    this.markIfComplete(chunk);
  }

  private markIfComplete(chunk: HeldChunk): void {
    if (!chunk.fed || chunk.marking || chunk.recorded < chunk.prepared) return;
    // Not all of a lost chunk was fed here: its new holder marks it done.
    if (chunk.lost) {
      this.held.delete(chunk.n);
      return;
    }
    chunk.marking = true;
    const mark = this.markDone(chunk).finally(() => this.marks.delete(mark));
    this.marks.add(mark);
  }

  /** Commits the chunk's outcomes, then marks it done; the last chunk of the run makes this worker its finisher. */
  private async markDone(chunk: HeldChunk): Promise<void> {
    try {
      await this.hooks.flush();
      if (await this.leases.markDone(chunk.n)) this.lastDone = true;
      this.tally.done += 1;
      this.held.delete(chunk.n);
    } catch (error) {
      this.hooks.onFailure(error);
    }
  }

  private async renew(): Promise<void> {
    // A renewal waiting for the database to come back is not joined by more of them.
    if (this.renewing) return;
    this.renewing = true;
    try {
      const held = [...this.held.values()].filter((chunk) => !chunk.marking && !chunk.lost);
      const { renewed, runOutcome } = await this.leases.renew(held.map((chunk) => chunk.n));
      for (const chunk of held) {
        if (renewed.has(chunk.n) || chunk.marking) continue;
        chunk.lost = true;
        this.markIfComplete(chunk);
      }
      if (runOutcome !== undefined && runOutcome !== 'running' && !this.lastDone) this.runEnded(runOutcome);
    } catch {
      // The next renewal tries again; a lease that runs out meanwhile is taken over, which is safe.
    } finally {
      this.renewing = false;
    }
  }

  private runEnded(outcome: string): void {
    if (this.ended !== undefined || this.lastDone) return;
    this.ended = outcome;
    this.hooks.onRunEnded(outcome);
  }
}
