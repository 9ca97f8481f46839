import { PostgresLedger } from '../../../src/core/ledger/postgresLedger';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../../support/postgresServer.mjs';
import { describeLedgerContract } from './ledgerContract';

/** One real PostgreSQL for the whole contract; each test gets a ledger of its own name in it. */
let server: PostgresServer | undefined;
let places = 0;

describe('the PostgreSQL ledger', function () {
  this.timeout(120_000);
  before(async function () {
    if (postgresUnavailable()) this.skip();
    server = await startPostgres();
  });
  after(async () => server?.stop());

  describeLedgerContract('a PostgreSQL database shared by many workers', async () => {
    places += 1;
    const name = `contract-${places}`;
    return {
      open: () => PostgresLedger.open({ url: server!.url, name }),
      cleanup: async () => undefined,
    };
  });
});
