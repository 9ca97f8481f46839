import * as fs from 'node:fs';
import { writeFixtureRunbook, type FixtureOptions } from './runbookFixture';

/** The secret the shared ledger's URL comes from, in the tests and in deploy/'s manifests alike. */
export const LEDGER_SECRET = 'LEDGER_URL';

/**
 * The fixture runbook (`fixture-job`, environment `test`) with its environment's ledger in PostgreSQL,
 * the URL the secret LEDGER_URL.
 */
export function writeSharedLedgerRunbook(dir: string, options: FixtureOptions): string {
  const file = writeFixtureRunbook(dir, options);
  const text = fs.readFileSync(file, 'utf8');
  const shared = text.replace(
    '    production: false\n',
    '    production: false\n    ledger:\n      type: postgres\n      url: ${secret:' + LEDGER_SECRET + '}\n',
  );
  if (shared === text) throw new Error('the fixture runbook no longer has the line the ledger goes after');
  fs.writeFileSync(file, shared);
  return file;
}
