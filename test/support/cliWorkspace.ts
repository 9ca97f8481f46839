/**
 * What most command-line tests of a run need around each test: a fresh temporary folder and, when asked
 * for, a target server on 127.0.0.1, both removed after the test by mocha hooks; and the ledger's rows as
 * `backfill ledger --format jsonl` exports them.
 */
import { strict as assert } from 'node:assert';
import { runCli, tempDir } from './cli';
import { startTargetServer, type Answer, type Arrival, type TargetServer } from './targetServer';

export interface CliWorkspace {
  /** The test's temporary folder. */
  readonly dir: string;
  /** Starts the test's target server (stopped after the test). */
  serve(behave?: (arrival: Arrival, attempt: number) => Answer): Promise<TargetServer>;
}

/** Registers beforeEach/afterEach hooks in the calling `describe`: call it at the top of one. */
export function cliWorkspace(): CliWorkspace {
  let work: ReturnType<typeof tempDir> | undefined;
  let server: TargetServer | undefined;
  beforeEach(() => (work = tempDir()));
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    work?.cleanup();
  });
  return {
    get dir() {
      return work!.dir;
    },
    async serve(behave) {
      server = await startTargetServer(behave);
      return server;
    },
  };
}

/** One record's outcome as `backfill ledger --format jsonl` exports it. */
export interface LedgerRow {
  key: string;
  status: string;
  attempts: number;
  idempotencyKey: string;
  httpStatus?: number;
  lastError?: string;
}

/** The latest outcomes of the runbook's chains (of one cell, with one status, when given). */
export async function ledgerRows(
  file: string,
  filter: { cell?: string; status?: string } = {},
): Promise<LedgerRow[]> {
  const result = await runCli([
    'ledger',
    file,
    ...(filter.cell ? ['--cell', filter.cell] : []),
    ...(filter.status ? ['--status', filter.status] : []),
    '--format',
    'jsonl',
  ]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LedgerRow);
}
