import * as os from 'node:os';
import { Ledger, stateDirFor } from '../../core/ledger/ledger';
import { isLive, readStatus, type RunStatus } from '../../core/run/runStatus';
import { ExitCode } from '../exitCodes';
import { loadRunbook } from '../loadRunbook';
import { duration } from '../output/dryRunText';

interface CellStatus {
  cell: string;
  kind: string;
  state: string;
  run?: string;
  outcome?: string;
  reason?: string;
  startedAt?: string;
  endedAt?: string;
  total?: number;
  succeeded: number;
  failed: number;
  rejected: number;
  /** Live figures, present while a run of the cell is in progress. */
  live?: RunStatus;
}

/** `backfill status FILE`: per runnable cell, its latest run from the ledger, and live figures if running. */
export async function statusCommand(file: string, options: { json?: boolean }): Promise<number> {
  const runbook = loadRunbook(file);
  const stateDir = stateDirFor(runbook.file);
  const live = readStatus(stateDir);
  const liveRunning =
    live && isLive(live, os.hostname()) && live.state !== 'finished' && live.state !== 'halted';
  const ledger = await Ledger.open(runbook.file);
  const cells: CellStatus[] = [];
  try {
    for (const cell of runbook.cells) {
      if (cell.kind !== 'execute' && cell.kind !== 'verify' && cell.kind !== 'dry-run') continue;
      const latest = ledger.latestRun(cell.id);
      const counts: Partial<Record<string, number>> = latest ? ledger.countByStatus(latest.chain) : {};
      const entry: CellStatus = {
        cell: cell.id,
        kind: cell.kind,
        state: latest ? latest.outcome : cell.kind === 'dry-run' ? dryRunState(ledger, cell.id) : 'not run',
        succeeded: counts.succeeded ?? 0,
        failed: counts.failed ?? 0,
        rejected: counts.rejected ?? 0,
      };
      if (latest) {
        Object.assign(entry, {
          run: latest.id,
          outcome: latest.outcome,
          startedAt: latest.startedAt,
          ...(latest.endedAt ? { endedAt: latest.endedAt } : {}),
          ...(latest.reason ? { reason: latest.reason } : {}),
        });
      }
      if (liveRunning && live.cell === cell.id) {
        Object.assign(entry, {
          state: live.state,
          live,
          succeeded: live.succeeded,
          failed: live.failed,
          rejected: live.rejected,
        });
        if (live.total !== undefined) entry.total = live.total;
      }
      cells.push(entry);
    }
  } finally {
    ledger.close();
  }
  if (options.json) {
    process.stdout.write(JSON.stringify({ runbook: runbook.header.name, cells }, null, 2) + '\n');
  } else {
    process.stdout.write(cells.map(describeCell).join(''));
  }
  return ExitCode.ok;
}

function dryRunState(ledger: Ledger, cell: string): string {
  const latest = ledger.dryRuns(cell)[0];
  return latest
    ? latest.passed
      ? `dry run passed ${latest.startedAt}`
      : `dry run did not pass ${latest.startedAt}`
    : 'not run';
}

function describeCell(c: CellStatus): string {
  const lines = [`${c.cell} (${c.kind}): ${c.state}${c.reason ? ` — ${c.reason}` : ''}`];
  if (c.run) lines.push(`  run ${c.run} started ${c.startedAt}${c.endedAt ? `, ended ${c.endedAt}` : ''}`);
  if (c.run || c.live) {
    const of = c.total !== undefined ? ` of ${c.total}` : '';
    lines.push(
      `  ${c.succeeded + c.failed + c.rejected}${of} done: ${c.succeeded} succeeded, ${c.failed} failed, ${c.rejected} rejected`,
    );
  }
  if (c.live) {
    const s = c.live;
    lines.push(
      `  rate ${s.rate.now}/s now, ${s.rate.average}/s average (configured ${s.rate.configured}/s) · concurrency ${s.concurrency} · ${s.inFlight} in flight`,
      `  latency p50 ${s.latencyMs.p50} ms, p95 ${s.latencyMs.p95} ms${s.etaSeconds !== undefined ? ` · ETA ${duration(s.etaSeconds)}` : ''}`,
    );
    const errors = Object.entries(s.errorsByKind);
    if (errors.length > 0) lines.push(`  errors: ${errors.map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}
