// Entry point the extension host loads (extensionTestsPath), bundled with its tests into one file. The
// imports stay lazy in the bundle, so the tests register after mocha defines describe/it. Test modules
// are not named *.test.ts: the unit run (.mocharc.json) must never load them without `vscode`.
import { resultFileFromEnvironment, runMochaSuite } from '../harness/extensionHostMocha';

export function run(): Promise<void> {
  return runMochaSuite(
    async () => {
      await import('./notebookEditing');
      await import('./dryRunCells');
      await import('./checklistCells');
      await import('./productionRuns');
      await import('./verifyCells');
      await import('./liveRuns');
      await import('./fleetRuns');
      await import('./runCommands');
      await import('./runbookHistory');
      await import('./judgeAgain');
      await import('./runStatusBar');
    },
    resultFileFromEnvironment(),
    { timeoutMs: 120_000 },
  );
}
