/**
 * Everything the post-run report shows, gathered once from the runbook and its ledger into plain data:
 * the HTML and Markdown renderers only lay it out. This folder cannot depend on the vscode API.
 */
import * as path from 'node:path';
import { checklistItemId, type Cell, type Runbook } from '../format/runbook';
import type { ChecklistItem, Header, Result } from '../format/schemas';
import { readAttempts, type Attempt } from '../ledger/attempts';
import type { DryRunRow, Ledger } from '../ledger/ledger';
import { stateDirFor } from '../ledger/statePaths';
import type { RunRecord, SignOff } from '../model/runs';
import { elapsedMs, inStatusOrder, parseRunCounts } from '../run/cellResult';
import { interventionsOf, timelineOf, type Intervention, type TimelineEntry } from './history';
import { documentParts, recommendedChanges, type DocumentPart, type NotesSection } from './notes';
import { reproduceSteps, type ReproduceStep } from './reproduce';
import type { ChecklistItemReport, ChecklistReport, RunParams, RunReport } from './runReport';
import { SeriesBuilder } from './timeSeries';

export interface ReportModel {
  generatedAt: string;
  /** The runbook's file name (not its full path: the report is shared beyond this machine). */
  runbookFile: string;
  title: string;
  name: string;
  owner: string;
  stakeholders: Header['stakeholders'];
  /** Runnable cells in document order, each with its latest state. */
  cells: CellReport[];
  checklists: ChecklistReport[];
  /** Every dry run and run of every cell, oldest first. */
  runs: RunReport[];
  verification: VerificationReport[];
  interventions: Intervention[];
  /** Real runs refused by a gate or cancelled at a question (they wrote no result). */
  attempts: Attempt[];
  timeline: TimelineEntry[];
  reproduce: ReproduceStep[];
  recommendedChanges?: NotesSection;
  document: DocumentPart[];
}

export interface CellReport {
  id: string;
  kind: Cell['kind'];
  description?: string;
  job?: string;
  /** Outcome of the latest run (or dry run) of the cell; undefined when it never ran. */
  outcome?: string;
  /** State of the records of the latest run chain (or the latest dry run's counts). */
  counts: Record<string, number>;
  startedAt?: string;
  endedAt?: string;
  /** Time spent running: every run of the cell together (each run's own is in {@link RunReport}). */
  durationMs?: number;
  /** How many runs that time is spread over (a full run, its resumes, its gap re-sends). */
  runCount?: number;
  /** The result block embedded in the runbook, as committed. */
  embedded?: Result;
}

export interface VerificationReport {
  cell: string;
  run?: string;
  outcome?: string;
  endedAt?: string;
  /** Records of the latest verification chain by status (verified, mismatch, missing, error…). */
  counts: Record<string, number>;
}

export interface ReportOptions {
  now?: Date;
}

/** Gathers the report of a runbook from its ledger. Reads only; the ledger is left as it was. */
export async function buildReportModel(
  runbook: Runbook,
  ledger: Ledger,
  options: ReportOptions = {},
): Promise<ReportModel> {
  const runs = [...dryRunReports(await ledger.dryRuns()), ...(await runReports(ledger))].sort(byStart);
  const signOffs = await ledger.signOffs();
  const checklists = checklistReports(runbook, signOffs);
  const model: ReportModel = {
    generatedAt: (options.now ?? new Date()).toISOString(),
    runbookFile: path.basename(runbook.file),
    title: runbook.header.title,
    name: runbook.header.name,
    owner: runbook.header.owner,
    stakeholders: runbook.header.stakeholders,
    cells: await cellReports(runbook, ledger, runs),
    checklists,
    runs,
    verification: await verificationReports(runbook, ledger),
    interventions: interventionsOf(runs, runbook),
    attempts: readAttempts(stateDirFor(runbook.file)),
    timeline: timelineOf(runs, checklists),
    reproduce: reproduceSteps(runs, runbook),
    document: documentParts(runbook),
  };
  const changes = recommendedChanges(runbook);
  if (changes) model.recommendedChanges = changes;
  return model;
}

function byStart(a: { startedAt: string }, b: { startedAt: string }): number {
  return a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0;
}

function dryRunReports(rows: DryRunRow[]): RunReport[] {
  return rows.map((row) => {
    const report = parseJson<{ counts?: { selected?: number }; problems?: string[] }>(row.report);
    const selected = report?.counts?.selected;
    return {
      id: row.id,
      cell: row.cell,
      kind: 'dry-run',
      environment: row.environment,
      operator: row.operator,
      host: row.host,
      startedAt: row.startedAt,
      endedAt: row.finishedAt,
      durationMs: elapsedMs(row.startedAt, row.finishedAt) ?? 0,
      outcome: row.passed ? 'passed' : 'not passed',
      ...(report?.problems?.length ? { reason: report.problems.join('; ') } : {}),
      counts: {
        total: row.total,
        valid: row.valid,
        rejected: row.rejected,
        duplicates: row.duplicates,
        ...(selected !== undefined ? { selected } : {}),
      },
      retried: 0,
      errorsByKind: {},
      params: {},
      fingerprint: row.fingerprint,
    };
  });
}

/** Runs with their own counts, errors and time series, from one pass over each cell's outcomes. */
async function runReports(ledger: Ledger): Promise<RunReport[]> {
  const runs = await ledger.runs();
  const tallies = new Map<string, RunTally>();
  for (const run of runs)
    tallies.set(run.id, new RunTally(run, run.endedAt ?? (await ledger.lastOutcomeAt(run.id))));
  for (const cell of new Set(runs.map((run) => run.cell))) {
    for await (const outcome of ledger.outcomes({ cell })) tallies.get(outcome.run)?.add(outcome);
  }
  return runs.map((run) => tallies.get(run.id)!.report());
}

/** Accumulates what one run's outcomes say: counts, retries, errors by kind, the time series. */
class RunTally {
  private readonly counts: Record<string, number> = {};
  private readonly errorsByKind: Record<string, number> = {};
  private retried = 0;
  private rowsAffected: number | undefined;
  private readonly series: SeriesBuilder;
  constructor(
    private readonly run: RunRecord,
    /** When the run ended, or its last outcome's time if it never recorded an end. */
    private readonly endedAt: string | undefined,
  ) {
    const start = Date.parse(run.startedAt);
    this.series = new SeriesBuilder(
      start,
      this.endedAt ? Date.parse(this.endedAt) : start,
      recordedOutcomes(run.counts),
    );
  }

  add(outcome: {
    status: string;
    attempts: number;
    errorKind?: string;
    at: string;
    rowsAffected?: number;
  }): void {
    this.counts[outcome.status] = (this.counts[outcome.status] ?? 0) + 1;
    if (outcome.rowsAffected !== undefined) {
      this.rowsAffected = (this.rowsAffected ?? 0) + outcome.rowsAffected;
    }
    if (outcome.attempts > 1) this.retried += 1;
    const isError = outcome.status !== 'succeeded' && outcome.status !== 'rejected';
    if (isError && outcome.errorKind) {
      this.errorsByKind[outcome.errorKind] = (this.errorsByKind[outcome.errorKind] ?? 0) + 1;
    }
    this.series.add(outcome.status, Date.parse(outcome.at));
  }

  report(): RunReport {
    const { run } = this;
    const counts = this.ownCounts();
    const durationMs = this.endedAt ? elapsedMs(run.startedAt, this.endedAt) : undefined;
    const finished = Object.entries(counts)
      .filter(([name]) => name !== 'skipped')
      .reduce((sum, [, n]) => sum + n, 0);
    return {
      id: run.id,
      cell: run.cell,
      kind: run.mode,
      environment: run.environment,
      operator: run.operator,
      host: run.host,
      startedAt: run.startedAt,
      ...(this.endedAt ? { endedAt: this.endedAt } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
      outcome: run.outcome,
      ...(run.reason ? { reason: run.reason } : {}),
      counts,
      chain: run.chain,
      retried: this.retried,
      ...(this.rowsAffected !== undefined ? { rowsAffected: this.rowsAffected } : {}),
      errorsByKind: this.errorsByKind,
      ...(durationMs ? { rate: Math.round((finished / (durationMs / 1000)) * 100) / 100 } : {}),
      series: this.series.build(),
      params: parseJson<RunParams>(run.params) ?? {},
      fingerprint: run.fingerprint,
    };
  }

  /**
   * The counts the run recorded at its end are exact; the outcomes still attributed to it are not
   * (a later run may have sent some records again), so they are the fallback for a crashed run.
   */
  private ownCounts(): Record<string, number> {
    const stored = parseRunCounts(this.run);
    if (!stored) return inStatusOrder(this.counts);
    const counts: Record<string, number> = {};
    for (const [name, value] of Object.entries(stored)) {
      if (typeof value === 'number' && name !== 'done' && name !== 'total') counts[name] = value;
    }
    return inStatusOrder(counts);
  }
}

/** Outcomes a run recorded (its counts without done, total, skipped), or undefined when unknown. */
function recordedOutcomes(counts: string | undefined): number | undefined {
  const parsed = parseJson<Record<string, unknown>>(counts ?? '');
  if (!parsed) return undefined;
  return Object.entries(parsed)
    .filter(([name, n]) => typeof n === 'number' && !['done', 'total', 'skipped', 'rejected'].includes(name))
    .reduce((sum, [, n]) => sum + (n as number), 0);
}

async function cellReports(runbook: Runbook, ledger: Ledger, runs: RunReport[]): Promise<CellReport[]> {
  const cells: CellReport[] = [];
  for (const cell of runbook.cells) {
    if (cell.kind === 'job' || cell.kind === 'checklist') continue;
    const report: CellReport = {
      id: cell.id,
      kind: cell.kind,
      job: cell.spec.job,
      counts: {},
      ...(cell.spec.description ? { description: cell.spec.description } : {}),
      ...(cell.result ? { embedded: cell.result } : {}),
    };
    const latest = [...runs].reverse().find((run) => run.cell === cell.id);
    if (latest) {
      // A gap re-send's 1 s is not the duration of the 22 s run before it: the cell's runs add up.
      const ofCell = runs.filter(
        (run) => run.cell === cell.id && (run.kind === 'dry-run') === (latest.kind === 'dry-run'),
      );
      const spent = latest.kind === 'dry-run' ? [latest] : ofCell;
      const durationMs = spent.reduce((sum, run) => sum + (run.durationMs ?? 0), 0);
      Object.assign(report, {
        outcome: latest.outcome,
        startedAt: spent[0]!.startedAt,
        ...(latest.endedAt ? { endedAt: latest.endedAt } : {}),
        ...(spent.some((run) => run.durationMs !== undefined) ? { durationMs } : {}),
        runCount: spent.length,
      });
      report.counts = latest.chain ? await chainCounts(ledger, latest.chain) : latest.counts;
    }
    cells.push(report);
  }
  return cells;
}

/** Records of a chain by status, zero counts left out. */
async function chainCounts(ledger: Ledger, chain: string): Promise<Record<string, number>> {
  const counts = Object.entries(await ledger.countByStatus(chain)).filter(([, n]) => n > 0);
  return inStatusOrder(Object.fromEntries(counts));
}

function checklistReports(runbook: Runbook, signOffs: SignOff[]): ChecklistReport[] {
  return runbook.cells
    .filter((cell): cell is Extract<Cell, { kind: 'checklist' }> => cell.kind === 'checklist')
    .map((cell) => ({
      id: cell.id,
      items: cell.spec.map((item) =>
        checklistItemReport(
          item,
          signOffs.filter((s) => s.checklist === cell.id),
        ),
      ),
    }));
}

function checklistItemReport(item: ChecklistItem, signOffs: SignOff[]): ChecklistItemReport {
  const id = checklistItemId(item);
  const history = signOffs.filter((s) => s.item === id);
  const latest = history.at(-1);
  const checked = item.checked ?? (latest?.checked ? { by: latest.by, at: latest.at } : undefined);
  return {
    id,
    item: item.item,
    owner: item.owner,
    required: item.required,
    ...(checked ? { checked } : {}),
    history,
  };
}

async function verificationReports(runbook: Runbook, ledger: Ledger): Promise<VerificationReport[]> {
  const reports: VerificationReport[] = [];
  for (const cell of runbook.cells.filter((c) => c.kind === 'verify')) {
    const latest = await ledger.latestRun(cell.id);
    if (!latest) {
      reports.push({ cell: cell.id, counts: {} });
      continue;
    }
    reports.push({
      cell: cell.id,
      run: latest.id,
      outcome: latest.outcome,
      ...(latest.endedAt ? { endedAt: latest.endedAt } : {}),
      counts: await chainCounts(ledger, latest.chain),
    });
  }
  return reports;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
