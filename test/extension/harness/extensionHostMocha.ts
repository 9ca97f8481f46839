// Runs a mocha suite inside the VS Code extension host and writes the outcome to a JSON file.
// Bundled into the suite's index.js, so it must only use what the extension host provides: Node and
// the `vscode` module. The extension host has no stdout the harness can read, so the result file is
// the only report; mocha's own reporter stays silent.
import Mocha from 'mocha';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestFailure, TestOutcome, TestRunResult } from './testResult';
import { RESULT_FILE_ENV } from './testResult';

/** Imports a bundled suite's test modules: `() => import('./x.test')`, which esbuild keeps lazy. */
export type TestLoader = () => Promise<unknown>;

export interface MochaSuiteOptions {
  ui?: 'bdd' | 'tdd';
  timeoutMs?: number;
}

/**
 * Runs the tests and writes a {@link TestRunResult} to `resultFile`; rejects when any test fails, so
 * the extension host also exits non-zero.
 *
 * @param tests a folder of compiled `*.test.js` files (searched recursively), or a loader for a
 *   suite bundled into one file, where there are no test files on disk to find.
 */
export async function runMochaSuite(
  tests: string | TestLoader,
  resultFile: string,
  options: MochaSuiteOptions = {},
): Promise<void> {
  const mocha = new Mocha({
    ui: options.ui ?? 'bdd',
    timeout: options.timeoutMs ?? 20_000,
    reporter: Mocha.reporters.Base,
    color: false,
  });
  // `BACKFILL_TEST_GREP=<pattern> npm run test:extension` runs only the tests whose titles match (the
  // extension host inherits code-server's environment, which inherits the harness's).
  const grep = process.env.BACKFILL_TEST_GREP;
  if (grep) mocha.grep(grep);
  try {
    await loadTests(mocha, tests);
  } catch (error) {
    writeResult(resultFile, {
      passed: 0,
      failed: 1,
      failures: [failure('loading the test suite', error)],
      tests: [],
    });
    throw error;
  }
  const result = await runLoaded(mocha);
  writeResult(resultFile, result);
  if (result.failed > 0) throw new Error(`${result.failed} test(s) failed`);
}

/** The result file the harness asked for; it passes the path through the environment. */
export function resultFileFromEnvironment(): string {
  const file = process.env[RESULT_FILE_ENV];
  if (!file) throw new Error(`${RESULT_FILE_ENV} is not set; run this suite through the harness`);
  return file;
}

async function loadTests(mocha: Mocha, tests: string | TestLoader): Promise<void> {
  if (typeof tests === 'string') {
    for (const file of findTestFiles(tests)) mocha.addFile(file);
    await mocha.loadFilesAsync();
    return;
  }
  // What mocha does before requiring each file: define describe/it (or suite/test) as globals.
  mocha.suite.emit(Mocha.Suite.constants.EVENT_FILE_PRE_REQUIRE, globalThis, 'bundled suite', mocha);
  await tests();
}

function findTestFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.js'))
    .sort()
    .map((name) => path.resolve(root, name));
}

function runLoaded(mocha: Mocha): Promise<TestRunResult> {
  const tests: TestOutcome[] = [];
  const failures: TestFailure[] = [];
  const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;
  return new Promise((resolve) => {
    const runner = mocha.run(() =>
      resolve({
        passed: tests.filter((test) => test.state === 'passed').length,
        failed: failures.length,
        failures,
        tests,
      }),
    );
    runner.on(EVENT_TEST_PASS, (test) =>
      tests.push({ title: test.fullTitle(), state: 'passed', durationMs: test.duration }),
    );
    runner.on(EVENT_TEST_PENDING, (test) => tests.push({ title: test.fullTitle(), state: 'pending' }));
    // Also fires for failing hooks, which are not tests but must count as failures.
    runner.on(EVENT_TEST_FAIL, (test, error) => {
      tests.push({ title: test.fullTitle(), state: 'failed', durationMs: test.duration });
      failures.push(failure(test.fullTitle(), error));
    });
  });
}

function failure(title: string, error: unknown): TestFailure {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { title, error: text };
}

/** Written whole and renamed into place: the harness polls for the file and must never read half of it. */
function writeResult(file: string, result: TestRunResult): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(result, null, 2) + '\n');
  renameSync(partial, file);
}
