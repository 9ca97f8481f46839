import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { openLedger } from '../../../src/core/ledger/openLedger';
import { keepStateIn, stateDirFor } from '../../../src/core/ledger/statePaths';
import { UserError } from '../../../src/core/model/types';

describe('the state folder of a runbook', () => {
  afterEach(() => keepStateIn(undefined));

  it('is beside the runbook by default, and in the given folder when moved, named after the runbook', () => {
    assert.equal(stateDirFor('/srv/backfill/orders.backfill'), '/srv/backfill/orders.backfill.d');
    keepStateIn('/var/lib/backfill');
    assert.equal(stateDirFor('/srv/backfill/orders.backfill'), '/var/lib/backfill/orders.backfill.d');
    keepStateIn('');
    assert.equal(stateDirFor('runbooks/a.backfill'), `${path.resolve('runbooks/a.backfill')}.d`);
  });

  it('refuses an embedded ledger while moved, saying where that ledger stays and what to do', async () => {
    keepStateIn('/var/lib/backfill');
    await assert.rejects(
      openLedger('/srv/backfill/orders.backfill'),
      (error: unknown) =>
        error instanceof UserError &&
        /kept beside the runbook in \/srv\/backfill\/orders\.backfill\.d: .*unset BACKFILL_STATE_DIR/.test(
          error.message,
        ),
    );
  });
});
