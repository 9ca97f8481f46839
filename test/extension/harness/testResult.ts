// The contract between the mocha run inside the extension host and the harness outside it. The
// extension host has no stdout the harness can read, so results travel through a JSON file whose
// path the harness passes down in an environment variable (inherited by the extension host).

export const RESULT_FILE_ENV = 'BACKFILL_TEST_RESULT_FILE';

export interface TestOutcome {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
}

export interface TestFailure {
  title: string;
  error: string;
}

export interface TestRunResult {
  passed: number;
  failed: number;
  failures: TestFailure[];
  tests: TestOutcome[];
}
