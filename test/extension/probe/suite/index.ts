// Entry point the extension host loads (extensionTestsPath). Bundled with its tests into one file;
// the dynamic import stays lazy in the bundle, so the tests register after mocha defines describe/it.
import { resultFileFromEnvironment, runMochaSuite } from '../../harness/extensionHostMocha';

export function run(): Promise<void> {
  return runMochaSuite(() => import('./notebookExecution'), resultFileFromEnvironment());
}
