/**
 * Following a run whose ledger is in PostgreSQL: its workers may be on any host, so there is no status
 * file to read — the core reads the ledger's counts and the fleet's members from the database
 * (core/run/fleetWatch.ts) about once a second, while a notebook shows the run. Commands go to every
 * worker through the fleet's controls, as `backfill control --env` sends them. The database URL stays in
 * memory: it is never written, shown or logged (errors are redacted by the caller's redactor).
 */
import * as vscode from 'vscode';
import type { Ledger } from '../core/ledger/ledger';
import type { PostgresLedgerPlace } from '../core/ledger/postgresLedger';
import { PostgresLedger } from '../core/ledger/postgresLedger';
import type { ControlCommand } from '../core/run/control';
import type { FleetProgress } from '../core/run/fleetProgress';
import { FleetWatch } from '../core/run/fleetWatch';
import { UserError } from '../core/model/types';
import { Disposable } from './disposable';
import { ProgressHistory } from './progressHistory';
import type { LiveRun, ProgressView, RunEnd } from './runMonitor';

const POLL_MS = 1000;
/**
 * Reads in a row with no live member while the run's record still says running before the view ends:
 * the last member leaves a moment before the process that created the run records how it ended.
 */
const SETTLE_READS = 5;

export class FleetMonitor extends Disposable implements LiveRun {
  private readonly changed = this._register(new vscode.EventEmitter<ProgressView>());
  private readonly finished = this._register(new vscode.EventEmitter<RunEnd>());
  readonly onDidChange = this.changed.event;
  readonly onDidEnd = this.finished.event;
  readonly followsOnlyWhileShown = true;
  private readonly history = new ProgressHistory(true);
  private latest: ProgressView | undefined;
  private end: RunEnd | undefined;
  private unsettled = 0;
  private reading: Promise<void> = Promise.resolve();
  private readonly timer: ReturnType<typeof setInterval>;

  private constructor(
    readonly file: string,
    readonly cell: string,
    private readonly run: string,
    private readonly place: PostgresLedgerPlace,
    private watch: FleetWatch | undefined,
    first: FleetProgress,
  ) {
    super();
    this.show(first);
    this.timer = setInterval(() => this.refresh(), POLL_MS);
    this._register({ dispose: () => clearInterval(this.timer) });
    this._register({ dispose: () => void this.closeWatch() });
  }

  /**
   * The monitor of the ledger's run with live workers, when it is a run of this runbook's cells;
   * undefined when no run has a live worker. Throws a UserError when the database cannot be reached.
   */
  static async attach(
    file: string,
    place: PostgresLedgerPlace,
    isCell: (cell: string) => boolean,
  ): Promise<FleetMonitor | undefined> {
    const watch = await FleetWatch.open(place);
    try {
      const run = await watch.liveRun();
      const first = run && isCell(run.cell) ? await watch.progress(run.id) : undefined;
      if (!run || !first) {
        await watch.close();
        return undefined;
      }
      return new FleetMonitor(file, run.cell, run.id, place, watch, first);
    } catch (error) {
      await watch.close();
      throw error;
    }
  }

  get progress(): ProgressView | undefined {
    return this.latest;
  }

  get ended(): RunEnd | undefined {
    return this.end;
  }

  refresh(): void {
    this.reading = this.reading.then(() => this.read());
  }

  /** To every worker of the fleet, through the ledger's controls; throws when none is alive. */
  async control(command: ControlCommand): Promise<void> {
    const watch = this.watch ?? (this.watch = await FleetWatch.open(this.place));
    const reached = await watch.send(command);
    if (!reached) throw new UserError(`no worker of the run is alive in ${watch.where}`);
    this.refresh();
  }

  openLedger(): Promise<Ledger> {
    return PostgresLedger.open(this.place);
  }

  private async read(): Promise<void> {
    if (this.end || this.isDisposed) return;
    let progress: FleetProgress | undefined;
    try {
      this.watch ??= await FleetWatch.open(this.place);
      progress = await this.watch.progress(this.run);
    } catch {
      // The database went away: keep showing the last figures, reconnect at the next read.
      await this.closeWatch();
      return;
    }
    if (!progress || this.end || this.isDisposed) return;
    this.show(progress);
    this.unsettled = progress.live ? 0 : this.unsettled + 1;
    if (progress.settled || this.unsettled >= SETTLE_READS) {
      this.end = { kind: 'ended', status: progress.status };
      clearInterval(this.timer);
      this.finished.fire(this.end);
    }
  }

  private show(progress: FleetProgress): void {
    this.latest = { status: progress.status, ...this.history.record(progress.status), fleet: progress.fleet };
    this.changed.fire(this.latest);
  }

  private async closeWatch(): Promise<void> {
    const watch = this.watch;
    this.watch = undefined;
    await watch?.close();
  }
}
