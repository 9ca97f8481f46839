/**
 * Runs that touch the target: Execute… (an execute cell for real, in a non-production environment), Run
 * in Production… (the same in a production environment, and only there),
 * Retry Failed Records, and verification. Each starts the runner in its own process (see
 * runnerProcess.ts) and attaches the cell to it, so the run outlives the window.
 *
 * Nothing here starts without an explicit yes: a real write shows the dry run's figures (target, record
 * count, rate, concurrency, estimated duration) in a modal first, and a production run also needs the
 * runbook's name typed. The gates in the runner still apply on top of these questions.
 */
import * as vscode from 'vscode';
import { describeAction } from '../core/actions/actionKinds';
import type { DryRunReport } from '../core/dryrun/dryRun';
import type { ResolvedEnvironment } from '../core/job/environment';
import {
  findCell as findRunbookCell,
  isRunnable,
  jobCell,
  type RunnableCell,
  type Runbook,
} from '../core/format/runbook';
import { resolveJob } from '../core/job/job';
import { openLedger } from '../core/ledger/openLedger';
import { stateDirFor } from '../core/ledger/statePaths';
import { readableTime } from '../core/report/cellRecord';
import { finishedRunOf } from '../core/ledger/finishedRun';
import { recordsBeforeRun } from '../core/run/recordsBeforeRun';
import { readStatus } from '../core/run/runStatus';
import { signOffGateReason } from '../core/run/gate';
import { cellThresholds, rejudgeChange } from '../core/run/thresholds';
import { UserError } from '../core/model/types';
import { findVerificationGaps, gapResendCell } from '../core/verify/gaps';
import type { Ledger } from '../core/ledger/ledger';
import { cancelled, logAttempt } from './attemptLog';
import type { Environments } from './environments';
import {
  cellId,
  cellKind,
  findCell,
  parseNotebook,
  resolveCell,
  resolveNotebook,
  runbookLabel,
} from './notebookDocument';
import { errorOutput } from './outputs';
import { EXECUTE, realRunAction, RUN_IN_PRODUCTION } from './realRunAction';
import type { Prompts, RunConfirmation } from './prompts';
import { describeRefusal } from './runOutcome';
import type { ActiveRuns, LiveRun } from './runMonitor';
import type { Cli, RunRequest } from './runnerProcess';
import { isNotReady, prepareRun, type PreparedRun } from './runPreparation';
import type { RunbookSecrets } from './secrets';
import { ensureTrusted } from './workspaceTrust';

export interface RealRunServices {
  cli: Cli;
  runs: ActiveRuns;
  environments: Environments;
  secrets: RunbookSecrets;
  prompts: Prompts;
  /** Shows a run in its cell; resolves with the run's success once it ends (or undefined if detached). */
  attach(cell: vscode.NotebookCell, monitor: LiveRun, prepared: PreparedRun): Promise<boolean | undefined>;
  /** Adds a refusal under a cell's outputs, keeping the record of its last run. */
  showNotice(cell: vscode.NotebookCell, notice: vscode.NotebookCellOutput): Promise<boolean>;
  /** Replaces a cell's outputs outside a run. */
  showOutputs(
    cell: vscode.NotebookCell,
    outputs: vscode.NotebookCellOutput[],
    success: boolean,
  ): Promise<boolean>;
}

export class RealRuns {
  constructor(private readonly s: RealRunServices) {}

  /** Execute…: a real run of an execute cell in the chosen environment, refused when it is production. */
  async execute(argument: unknown): Promise<void> {
    const target = await this.executeCell(argument, EXECUTE);
    if (target) await this.start(target.cell, { action: 'execute' });
  }

  /** Run in Production…: a real run of an execute cell in the chosen production environment, and only there. */
  async runInProduction(argument: unknown): Promise<void> {
    const target = await this.executeCell(argument, RUN_IN_PRODUCTION);
    if (target) await this.start(target.cell, { action: 'production' });
  }

  /** Retry Failed Records: `--only failed` of the cell's latest run. */
  async retryFailed(argument: unknown): Promise<void> {
    const target = await this.executeCell(argument, 'Retry Failed Records', true);
    if (target) await this.start(target.cell, { only: 'failed' });
  }

  /**
   * Re-send the N unverified records: `--only unverified` of the execute cell that backfills the job a
   * verification checked (the verification output's button passes the verify cell).
   */
  async resendUnverified(argument: unknown): Promise<void> {
    const notebook = await resolveNotebook(argument);
    const given = notebook && resolveCell(notebook, argument);
    let execute = given;
    if (notebook && given && cellKind(given) === 'verify') {
      const { runbook } = parseNotebook(notebook);
      const verify = runbook && findRunbookCell(runbook, cellId(given)!);
      const id = runbook && verify?.kind === 'verify' ? gapResendCell(runbook, verify.spec.job) : undefined;
      execute = id === undefined ? undefined : findCell(notebook, id);
      if (!execute) {
        void vscode.window.showErrorMessage(
          `Backfill: no execute cell backfills the job cell ${cellId(given)} verifies, so there is nothing to re-send with.`,
        );
        return;
      }
    }
    const target = await this.executeCell(
      execute ? { notebookUri: execute.notebook.uri.toString(), cell: cellId(execute) } : argument,
      'Re-send Unverified Records',
    );
    if (target) await this.start(target.cell, { only: 'unverified' });
  }

  /**
   * ▶ on a verify cell: a verification only reads, so it needs no typed name; a production environment
   * still asks first. Resolves with the verification's success once it ends.
   */
  async verify(cell: vscode.NotebookCell): Promise<boolean> {
    const prepared = await this.prepare(cell);
    if (!prepared) return false;
    const id = cellId(cell)!;
    const job = resolveJob(prepared.runbook, runnableCell(prepared.runbook, id));
    if (prepared.environment.production) {
      const ok = await this.s.prompts.confirmRun({
        ...this.figures(prepared, id, prepared.environment),
        target: `read-only checks against ${prepared.environment.name}`,
        records: undefined,
        verification: true,
        rate: job.throttle.rate,
        concurrency: job.throttle.concurrency,
        estimatedSeconds: undefined,
      });
      if (!ok) return (cancelled(prepared, id, 'confirmation', 'verification of production'), false);
    }
    return (
      (await this.launch(cell, prepared, { kind: 'verify', production: prepared.environment.production })) ??
      false
    );
  }

  private async start(
    cell: vscode.NotebookCell,
    options: { only?: 'failed' | 'unverified'; action?: 'execute' | 'production' },
  ): Promise<void> {
    const prepared = await this.prepare(cell);
    if (!prepared) return;
    const id = cellId(cell)!;
    const { environment, runbook } = prepared;
    const name = runbook.header.name;
    // Each command does only what it says: Execute… never writes to production, and Run in Production…
    // never runs anywhere else (the palette hides the wrong one; this guards a keybinding or a script).
    if (options.action && (options.action === 'production') !== environment.production) {
      const wrong = wrongActionRefusal(options.action, environment.name || '(default)', id);
      logAttempt(prepared, id, 'refused', 'mode', wrong.message);
      return void this.refuse(cell, wrong.title, wrong.message, wrong.next, true);
    }
    if (environment.production) {
      // Unchecked, stale (the plan changed) or unsigned sign-offs: refused before the dry run and the modal.
      const reason = signOffGateReason(runbook);
      if (reason) {
        logAttempt(prepared, id, 'refused', 'checklist', reason);
        return void this.refuse(
          cell,
          'Refused by the checklist gate',
          reason,
          describeRefusal(reason).next,
          true,
        );
      }
    }
    const measured =
      options.only === 'failed'
        ? await this.failedFigures(prepared, id)
        : options.only === 'unverified'
          ? await this.gapFigures(prepared, id)
          : await this.dryRunFigures(cell, prepared, id);
    if (!measured) return;
    const { fingerprint, dryRun, ...figures } = measured;
    let restart = false;
    if (!options.only) {
      const again = await this.runAgain(prepared, id, fingerprint);
      if (again === 'cancel') return;
      if (again === 'rejudge') return this.judgeAgain(cell, prepared);
      if (again === 'retry') return this.start(cell, { only: 'failed' });
      if (again === 'unverified') return this.start(cell, { only: 'unverified' });
      restart = again === 'restart';
    }
    const confirmation: RunConfirmation = {
      ...this.figures(prepared, id, environment),
      ...figures,
      ...(dryRun ? await this.recordsToSend(prepared, id, dryRun, restart) : {}),
      ...(options.only ? { only: options.only } : {}),
    };
    // A retry of failures on a non-production environment was asked for by name; anything else confirms.
    const needsModal = environment.production || options.only !== 'failed';
    if (needsModal && !(await this.s.prompts.confirmRun(confirmation))) {
      return cancelled(prepared, id, 'confirmation', environment.production ? 'production run' : 'run');
    }
    let mode: RunRequest['mode'] = { kind: 'execute' };
    if (environment.production) {
      const typed = await this.s.prompts.typeRunbookName(name);
      // Escape (or a wrong name, which the box does not accept) is a cancel, not a failure.
      if (typed !== name) return cancelled(prepared, id, 'typed-name', 'production run');
      mode = { kind: 'production', confirm: typed };
    }
    // The command returns once the run started; the cell shows it until it ends.
    void this.launch(cell, prepared, mode, { ...(options.only ? { only: options.only } : {}), restart });
  }

  /**
   * A cell whose latest run finished for this very job and data is not run again by accident: the user
   * chooses to start over, to retry its failures, or to leave it — or, when its thresholds changed since,
   * to have it judged again without sending anything (the core's rule, thresholds.ts).
   */
  private async runAgain(
    prepared: PreparedRun,
    id: string,
    fingerprint: string | undefined,
  ): Promise<'new' | 'restart' | 'retry' | 'unverified' | 'rejudge' | 'cancel'> {
    const ledger = await openLedger(prepared.file);
    let latest;
    let gaps = 0;
    try {
      latest = await finishedRunOf(ledger, id, fingerprint);
      if (latest) gaps = await countGaps(prepared.runbook, ledger, id);
    } finally {
      await ledger.close();
    }
    if (!latest) return 'new';
    const changed = thresholdChange(prepared, id, latest);
    // The safe choices first (Enter picks "Leave it", or judging again, which sends nothing either);
    // the one that sends everything again last.
    const picked = await this.s.prompts.pick(
      [
        ...(changed
          ? [{ id: 'rejudge', label: 'Judge it again', description: `${changed}; nothing is sent` }]
          : []),
        { id: 'cancel', label: 'Leave it', description: 'nothing is sent' },
        ...(gaps > 0
          ? [
              {
                id: 'unverified',
                label: `Re-send the ${gaps.toLocaleString('en-US')} unverified record${gaps === 1 ? '' : 's'}`,
                description: 'only those the latest verification found mismatched or missing',
              },
            ]
          : []),
        { id: 'retry', label: 'Retry Failed Records', description: 'only the records that failed' },
        {
          id: 'restart',
          label: 'Run it again from the start',
          description: 'every selected record is sent again',
        },
      ],
      `${id} already ${latest.outcome} on ${readableTime(latest.startedAt)} — run again?`,
    );
    if (picked === 'rejudge') return changed ? 'rejudge' : 'cancel';
    return picked === 'restart' || picked === 'retry' || picked === 'unverified' ? picked : 'cancel';
  }

  /**
   * A plain run of a finished cell whose thresholds changed: the runner judges it again from the ledger
   * and sends nothing, so there are no figures to confirm; a production run still needs the name typed.
   */
  private async judgeAgain(cell: vscode.NotebookCell, prepared: PreparedRun): Promise<void> {
    const id = cellId(cell)!;
    const name = prepared.runbook.header.name;
    let mode: RunRequest['mode'] = { kind: 'execute' };
    if (prepared.environment.production) {
      const typed = await this.s.prompts.typeRunbookName(name);
      if (typed !== name) return cancelled(prepared, id, 'typed-name', 'production run');
      mode = { kind: 'production', confirm: typed };
    }
    void this.launch(cell, prepared, mode, { restart: false });
  }

  private async launch(
    cell: vscode.NotebookCell,
    prepared: PreparedRun,
    mode: RunRequest['mode'],
    options: { only?: 'failed' | 'unverified'; restart?: boolean } = {},
  ): Promise<boolean | undefined> {
    const id = cellId(cell)!;
    const started = this.s.cli.startRun({
      file: prepared.file,
      cell: id,
      environment: prepared.environment.name,
      secrets: prepared.secrets,
      operator: prepared.operator,
      mode,
      ...options,
    });
    const monitor = this.s.runs.follow(prepared.file, id, started.pid, started.exited);
    return this.s.attach(cell, monitor, prepared);
  }

  /** The execute cell a command is about; undefined (after saying why) when there is none. */
  private async executeCell(
    argument: unknown,
    what: string,
    preferLatestRun = false,
  ): Promise<{ cell: vscode.NotebookCell } | undefined> {
    if (!ensureTrusted()) return undefined;
    const notebook = await resolveNotebook(argument);
    if (!notebook) {
      void vscode.window.showErrorMessage(`Backfill: ${what} needs an open runbook (a .backfill notebook).`);
      return undefined;
    }
    let cell = resolveCell(notebook, argument);
    if (cell && cellKind(cell) !== 'execute') cell = undefined;
    if (!cell && preferLatestRun) cell = this.latestRunCell(notebook);
    if (!cell) {
      const executes = notebook.getCells().filter((c) => cellKind(c) === 'execute');
      const picked =
        executes.length === 1
          ? cellId(executes[0]!)
          : await this.s.prompts.pick(
              executes.map((c) => ({ id: cellId(c)!, label: cellId(c)! })),
              `${what}: which execute cell?`,
            );
      cell = executes.find((c) => cellId(c) === picked);
    }
    if (!cell) {
      void vscode.window.showErrorMessage(
        `Backfill: ${what} runs an execute cell; ${runbookLabel(notebook)} has none selected.`,
      );
      return undefined;
    }
    const live = this.s.runs.live(notebook.uri.fsPath);
    if (live) {
      void vscode.window.showErrorMessage(
        `Backfill: cell ${live.cell} of ${runbookLabel(notebook)} is running; one run at a time. Stop it or wait for it to end.`,
      );
      return undefined;
    }
    return { cell };
  }

  /** The cell of the runbook's latest run, from its status file. */
  private latestRunCell(notebook: vscode.NotebookDocument): vscode.NotebookCell | undefined {
    const status = readStatus(stateDirFor(notebook.uri.fsPath));
    return status ? findCell(notebook, status.cell) : undefined;
  }

  private async prepare(cell: vscode.NotebookCell): Promise<PreparedRun | undefined> {
    const prepared = await prepareRun(cell.notebook, this.s, { cell: cellId(cell)!, command: 'run' });
    if (!isNotReady(prepared)) return prepared;
    await this.refuse(cell, prepared.title, prepared.message, prepared.next);
    return undefined;
  }

  private figures(prepared: PreparedRun, id: string, environment: ResolvedEnvironment) {
    return {
      runbook: runbookLabel(prepared.notebook),
      name: prepared.runbook.header.name,
      cell: id,
      environment: environment.name,
      production: environment.production,
    };
  }

  /**
   * What the run will really send, as its plan line will say it (the core counts it the runner's way):
   * the dry run's selection less what this cell's chain already finished and what other cells of the
   * job delivered — "1,980 of 2,000 (20 skipped: done by small-batch)". Nothing to add when the core
   * cannot tell (the runner's own refusal then says why).
   */
  private async recordsToSend(
    prepared: PreparedRun,
    id: string,
    dryRun: DryRunReport,
    restart: boolean,
  ): Promise<Partial<Pick<RunConfirmation, 'records' | 'recordsText' | 'estimatedSeconds'>>> {
    const ledger = await openLedger(prepared.file);
    let before;
    try {
      before = await recordsBeforeRun(ledger, {
        runbook: prepared.runbook,
        cell: id,
        fingerprint: dryRun.fingerprint,
        restart,
        ofSource: dryRun.counts.valid,
      });
    } finally {
      await ledger.close();
    }
    if (!before) return {};
    const { sending } = before;
    return {
      recordsText: before.text,
      ...(sending !== undefined
        ? { records: sending, estimatedSeconds: sending / dryRun.estimate.rate }
        : { records: undefined }),
    };
  }

  /** The dry run behind the confirmation: the real figures of what would be sent (and the gate's dry run). */
  private async dryRunFigures(
    cell: vscode.NotebookCell,
    prepared: PreparedRun,
    id: string,
  ): Promise<
    | (Pick<RunConfirmation, 'target' | 'records' | 'rate' | 'concurrency' | 'estimatedSeconds'> & {
        fingerprint?: string;
        dryRun?: DryRunReport;
      })
    | undefined
  > {
    const outcome = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Backfill: dry run of ${id} for the confirmation (nothing is sent)…`,
        cancellable: true,
      },
      (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return this.s.cli.dryRun({
          file: prepared.file,
          cell: id,
          environment: prepared.environment.name,
          secrets: prepared.secrets,
          operator: prepared.operator,
          signal: abort.signal,
        });
      },
    );
    const report = outcome.report && prepared.redactor.redactValue(outcome.report);
    if (!report) {
      const message = prepared.redactor.redact(outcome.stderr.trim() || `exit code ${outcome.exitCode}`);
      logAttempt(prepared, id, 'refused', 'dry-run', `the dry run failed: ${message}`);
      await this.refuse(
        cell,
        'Dry run failed',
        message,
        `Fix the problem, then use ${realRunAction(prepared.environment.production)} again.`,
      );
      return undefined;
    }
    if (!report.passed) {
      logAttempt(
        prepared,
        id,
        'refused',
        'dry-run',
        `the dry run does not pass: ${report.problems.join('; ')}`,
      );
      await this.refuse(
        cell,
        'The dry run does not pass',
        report.problems.join('\n') || 'see the dry run (▶) for details',
        `Nothing was sent. Fix the problems (▶ shows the full dry run), then use ${realRunAction(prepared.environment.production)} again.`,
      );
      return undefined;
    }
    return {
      target: describeTarget(prepared.runbook, report, prepared.environment),
      records: report.counts.selected,
      rate: report.estimate.rate,
      concurrency: report.estimate.concurrency,
      estimatedSeconds: report.estimate.seconds,
      fingerprint: report.fingerprint.combined,
      dryRun: report,
    };
  }

  private async failedFigures(prepared: PreparedRun, id: string) {
    const ledger = await openLedger(prepared.file);
    let failed = 0;
    try {
      const latest = await ledger.latestRun(id);
      if (latest) failed = (await ledger.countByStatus(latest.chain)).failed;
    } finally {
      await ledger.close();
    }
    if (failed === 0) {
      void vscode.window.showInformationMessage(
        `Backfill: the latest run of ${id} has no failed records to retry.`,
      );
      return undefined;
    }
    return rerunFigures(prepared, id, failed);
  }

  /** The figures of a gap re-send: the records the job's latest verification found wrong (the core says which). */
  private async gapFigures(prepared: PreparedRun, id: string) {
    const job = resolveJob(prepared.runbook, runnableCell(prepared.runbook, id));
    const ledger = await openLedger(prepared.file);
    let gaps: number;
    try {
      gaps = (await findVerificationGaps(prepared.runbook, ledger, job.job, id)).keys.size;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      void vscode.window.showInformationMessage(`Backfill: nothing to re-send — ${error.message}.`);
      return undefined;
    } finally {
      await ledger.close();
    }
    return rerunFigures(prepared, id, gaps);
  }

  private async refuse(
    cell: vscode.NotebookCell,
    title: string,
    message: string,
    next?: string,
    notify = false,
  ): Promise<false> {
    const shown = await this.s.showNotice(cell, errorOutput(title, message, next));
    if (notify || !shown) void vscode.window.showWarningMessage(`Backfill: ${title} — ${message}`);
    return false;
  }
}

/** The refusal of Execute… on a production environment, or of Run in Production… on another one. */
function wrongActionRefusal(
  action: 'execute' | 'production',
  environment: string,
  cell: string,
): { title: string; message: string; next: string } {
  if (action === 'execute') {
    return {
      title: `${EXECUTE} does not run in production`,
      message: `Environment ${environment} is production: ${EXECUTE} never writes to it, nothing was sent.`,
      next: `Use ${RUN_IN_PRODUCTION} on cell ${cell} (its checklist, dry run and typed name), or choose another environment.`,
    };
  }
  return {
    title: `${RUN_IN_PRODUCTION} is for production environments`,
    message: `Environment ${environment} is not production: nothing was sent.`,
    next: `Use ${EXECUTE} to run cell ${cell} for real in ${environment}.`,
  };
}

/**
 * How many records a gap re-send of execute cell `id` would send; 0 when none, when nothing is known, or
 * when `id` is not the cell that re-sends its job's gaps (a subset cell would skip gaps outside it).
 */
async function countGaps(runbook: Runbook, ledger: Ledger, id: string): Promise<number> {
  const cell = findRunbookCell(runbook, id);
  if (cell?.kind !== 'execute' || gapResendCell(runbook, cell.spec.job) !== id) return 0;
  try {
    return (await findVerificationGaps(runbook, ledger, cell.spec.job, id)).keys.size;
  } catch (error) {
    if (error instanceof UserError) return 0; // Not verified yet, or every gap re-sent since.
    throw error;
  }
}

/** The confirmation's figures for a re-send of `records` records of cell `id` (no dry run behind them). */
function rerunFigures(prepared: PreparedRun, id: string, records: number) {
  const job = resolveJob(prepared.runbook, runnableCell(prepared.runbook, id));
  return {
    target: describeTarget(prepared.runbook, undefined, prepared.environment, job.action),
    records,
    rate: job.throttle.rate,
    concurrency: job.throttle.concurrency,
    estimatedSeconds: records / job.throttle.rate,
    fingerprint: undefined,
    dryRun: undefined,
  };
}

/** What changed in the cell's thresholds since `finished` ran, when a plain run judges it again. */
function thresholdChange(
  prepared: PreparedRun,
  id: string,
  finished: { params?: string },
): string | undefined {
  const job = resolveJob(prepared.runbook, runnableCell(prepared.runbook, id));
  return rejudgeChange(finished, cellThresholds(prepared.runbook, id, job.successThreshold));
}

function runnableCell(runbook: Runbook, id: string): RunnableCell {
  const cell = findRunbookCell(runbook, id);
  if (!cell || !isRunnable(cell)) throw new Error(`cell ${id} is not a runnable cell of this runbook`);
  return cell;
}

/** The target in words, as the plan and the report say it (env values filled in). */
function describeTarget(
  runbook: Runbook,
  report: DryRunReport | undefined,
  environment: ResolvedEnvironment,
  action = report ? jobCell(runbook, report.job)?.spec.action : undefined,
): string {
  return action ? describeAction(action, environment.vars) : '(unknown)';
}
