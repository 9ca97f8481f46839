// The same integration suite as `npm run test:extension`, in desktop VS Code downloaded by
// @vscode/test-electron — for contributors with internet access. (The test machines have none: there
// the suite runs in code-server through test/extension/harness/runInCodeServer.ts.)
//
//   npm run test:extension:electron
import { readFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { bundleForExtensionHost, bundlePathFor } from './harness/bundle';
import { REPO_ROOT } from './harness/codeServer';
import type { TestRunResult } from './harness/testResult';
import { RESULT_FILE_ENV } from './harness/testResult';

async function main(): Promise<void> {
  const suite = path.join(__dirname, 'suite/index.ts');
  const testsPath = bundlePathFor(suite);
  await bundleForExtensionHost(suite, testsPath);
  const workspace = path.join(REPO_ROOT, '.vscode-test/workspace');
  await rm(workspace, { recursive: true, force: true });
  await mkdir(workspace, { recursive: true });
  const resultFile = path.join(REPO_ROOT, 'test-output/extension-electron/result.json');
  await rm(resultFile, { force: true });

  const exitCode = await runTests({
    version: '1.96.4',
    extensionDevelopmentPath: REPO_ROOT,
    extensionTestsPath: testsPath,
    extensionTestsEnv: { [RESULT_FILE_ENV]: resultFile },
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome'],
  }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    return 1;
  });
  const result = JSON.parse(await readFile(resultFile, 'utf8').catch(() => 'null')) as TestRunResult | null;
  for (const test of result?.tests ?? [])
    console.log(`  ${test.state === 'passed' ? '✓' : '✗'} ${test.title}`);
  for (const failure of result?.failures ?? []) console.log(`\n  ✗ ${failure.title}\n${failure.error}`);
  if (result) console.log(`\n${result.passed} passed, ${result.failed} failed`);
  process.exitCode = exitCode === 0 && result && result.failed === 0 ? 0 : 1;
}

void main();
