import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openLedger } from '../../../src/core/ledger/openLedger';
import { describeLedgerContract } from './ledgerContract';

describeLedgerContract('the embedded sql.js ledger beside the runbook', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backfill-contract-'));
  const runbook = path.join(dir, 'orders.backfill');
  return {
    open: () => openLedger(runbook),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
