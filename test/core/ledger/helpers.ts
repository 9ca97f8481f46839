import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SqlJsLedger } from '../../../src/core/ledger/sqlJsLedger';
import { ledgerFileIn, stateDirFor } from '../../../src/core/ledger/statePaths';
import type { DryRunRow, Ledger } from '../../../src/core/ledger/ledger';
import { openLedger } from '../../../src/core/ledger/openLedger';
import type { RecordOutcome, RunRecord } from '../../../src/core/model/runs';
import { loadSqlJs } from '../../../src/core/support/sqlite';

/** A ledger opened per test in a fresh folder, closed and removed after it. */
export function useOpenLedger(): { readonly ledger: Ledger } {
  let dir = '';
  let ledger: Ledger | undefined;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-ledger-'));
    ledger = await openLedger(path.join(dir, 'orders.backfill'));
  });
  afterEach(async () => {
    await ledger?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get ledger() {
      return ledger!;
    },
  };
}

/** A fresh folder per test holding `orders.backfill` (never created: only its state folder matters). */
export function useRunbook(): {
  readonly runbook: string;
  readonly stateDir: string;
  readonly ledgerFile: string;
} {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-ledger-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    get runbook() {
      return path.join(dir, 'orders.backfill');
    },
    get stateDir() {
      return stateDirFor(path.join(dir, 'orders.backfill'));
    },
    get ledgerFile() {
      return ledgerFileIn(stateDirFor(path.join(dir, 'orders.backfill')));
    },
  };
}

export function outcome(key: string, overrides: Partial<RecordOutcome> = {}): RecordOutcome {
  return {
    run: 'run-1',
    chain: 'chain-1',
    cell: 'orders',
    key,
    status: 'succeeded',
    attempts: 1,
    line: 2,
    idempotencyKey: `idem-${key}`,
    at: '2026-03-01T10:00:00.000Z',
    ...overrides,
  };
}

export function run(id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    chain: 'chain-1',
    cell: 'orders',
    job: 'orders',
    mode: 'execute',
    environment: 'staging',
    operator: 'ada',
    host: 'bastion-1',
    pid: 4242,
    startedAt: '2026-03-01T10:00:00.000Z',
    fingerprint: 'fp-1',
    params: '{"rate":10}',
    outcome: 'running',
    ...overrides,
  };
}

/** A passing dry run of cell `orders` with fingerprint `fp-2`. */
export function dryRunRow(overrides: Partial<DryRunRow> = {}): DryRunRow {
  return {
    id: 'dry-2',
    cell: 'orders',
    job: 'orders',
    environment: 'staging',
    operator: 'ada',
    host: 'bastion-1',
    startedAt: '2026-02-02T09:00:00.000Z',
    finishedAt: '2026-02-02T09:01:00.000Z',
    definitionHash: 'def',
    contentHash: 'content',
    fingerprint: 'fp-2',
    passed: true,
    total: 3,
    valid: 3,
    rejected: 0,
    duplicates: 0,
    report: '{}',
    ...overrides,
  };
}

/** Opens the ledger, lets `work` change it, saves and closes it. */
export async function withSavedLedger(
  runbook: string,
  work: (ledger: SqlJsLedger) => unknown,
): Promise<void> {
  const ledger = await SqlJsLedger.open(runbook);
  try {
    await work(ledger);
    await ledger.save();
  } finally {
    await ledger.close();
  }
}

/** Opens the ledger, reads from it, closes it. */
export async function readLedger<T>(
  runbook: string,
  read: (ledger: SqlJsLedger) => T | Promise<T>,
): Promise<T> {
  const ledger = await SqlJsLedger.open(runbook);
  try {
    return await read(ledger);
  } finally {
    await ledger.close();
  }
}

/** Every item of an async iterable (Array.fromAsync needs Node 22). */
export async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

/** Writes a ledger as the first backfill did: schema version 1, meta and dry_runs only, one dry run. */
export async function writeVersion1Ledger(file: string): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.run(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE dry_runs (
      id TEXT PRIMARY KEY, cell TEXT NOT NULL, job TEXT NOT NULL, environment TEXT NOT NULL,
      operator TEXT NOT NULL, host TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
      definition_hash TEXT NOT NULL, content_hash TEXT NOT NULL, fingerprint TEXT NOT NULL,
      passed INTEGER NOT NULL, total INTEGER NOT NULL, valid INTEGER NOT NULL, rejected INTEGER NOT NULL,
      duplicates INTEGER NOT NULL, report TEXT NOT NULL
    );
    CREATE INDEX dry_runs_by_fingerprint ON dry_runs (fingerprint, passed);
    INSERT INTO meta VALUES ('schema_version', '1');
    INSERT INTO dry_runs VALUES ('dry-1', 'orders', 'orders', 'staging', 'ada', 'bastion-1',
      '2026-02-01T09:00:00.000Z', '2026-02-01T09:01:00.000Z', 'def', 'content', 'fp-1', 1, 3, 3, 0, 0, '{}');
  `);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, db.export());
  db.close();
}

/** The pid of a process that has exited: nothing runs under it any more (until the pid is reused). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  if (child.pid === undefined) throw new Error('could not spawn a child process');
  return child.pid;
}

/** A child process that sleeps until killed; stop it with the returned function. */
export async function sleepingChild(): Promise<{ pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('spawn', resolve));
  if (child.pid === undefined) throw new Error('could not spawn a child process');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    pid: child.pid,
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}
