import { strict as assert } from 'node:assert';
import {
  FIRST_RETRY_MS,
  isConnectionLoss,
  MAX_RETRY_MS,
  retryThroughOutage,
} from '../../../src/core/ledger/postgresOutage';
import { UserError } from '../../../src/core/model/types';

/** An error as node-postgres or the socket gives it: a message and a code. */
function failure(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('riding out the PostgreSQL ledger going away', () => {
  describe('which failures are the connection going away', () => {
    const lost: [string, Error][] = [
      ['a restart ending the session (57P01 admin_shutdown)', failure('terminating connection', '57P01')],
      ['a crash of the server (57P02)', failure('terminating connection', '57P02')],
      ['a server starting up (57P03)', failure('the database system is starting up', '57P03')],
      ['a connection exception (class 08)', failure('connection failure', '08006')],
      ['a refused connection', failure('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
      ['a reset connection', failure('read ECONNRESET', 'ECONNRESET')],
      ['a broken pipe', failure('write EPIPE', 'EPIPE')],
      ['a socket that ended under a query', failure('Connection terminated unexpectedly')],
      [
        'a query on a client whose connection failed',
        failure('Client has encountered a connection error and is not queryable'),
      ],
      ['a query on a closed client', failure('Client was closed and is not queryable')],
      ['a wrapped cause', new Error('cannot connect', { cause: failure('refused', 'ECONNREFUSED') })],
    ];
    for (const [what, error] of lost) {
      it(`retries ${what}`, () => assert.equal(isConnectionLoss(error), true));
    }

    const halts: [string, unknown][] = [
      ['a unique violation (23505)', failure('duplicate key value violates unique constraint', '23505')],
      ['a full disk (53100)', failure('could not extend file: No space left on device', '53100')],
      ['a read-only database (25006)', failure('cannot execute INSERT in a read-only transaction', '25006')],
      ['a refused password (28P01)', failure('password authentication failed', '28P01')],
      ['a syntax error (42601)', failure('syntax error at or near', '42601')],
      ['a plain bug', new TypeError('cannot read properties of undefined')],
      ['something that is not an error', 'no'],
    ];
    for (const [what, error] of halts) {
      it(`halts on ${what}`, () => assert.equal(isConnectionLoss(error), false));
    }
  });

  describe('retrying an operation on a new connection', () => {
    it('reconnects with a doubling backoff until the operation succeeds, and says when the outage starts and ends', async () => {
      const waits: number[] = [];
      const outage: (string | undefined)[] = [];
      let reconnects = 0;
      let tries = 0;
      const result = await retryThroughOutage(
        () => {
          tries += 1;
          if (tries < 4) return Promise.reject(failure('terminating connection', '57P01'));
          return Promise.resolve('committed');
        },
        {
          reconnect: () => {
            reconnects += 1;
            // The database is still starting the first time.
            return reconnects === 1
              ? Promise.reject(failure('the database system is starting up', '57P03'))
              : Promise.resolve();
          },
          allowanceMs: 60_000,
          onOutage: (error) => outage.push(error === undefined ? undefined : (error as Error).message),
          sleep: (ms) => {
            waits.push(ms);
            return Promise.resolve();
          },
        },
      );
      assert.equal(result, 'committed');
      // Tried on connection 1 and 2 (which failed at once), 3 (the reconnect of the second wait failed),
      // then on the fourth.
      assert.equal(tries, 4);
      assert.deepEqual(waits, [FIRST_RETRY_MS, FIRST_RETRY_MS * 2, FIRST_RETRY_MS * 4, FIRST_RETRY_MS * 8]);
      assert.deepEqual(outage, ['terminating connection', undefined]);
    });

    it('waits at most five seconds between tries', async () => {
      const waits: number[] = [];
      let tries = 0;
      await retryThroughOutage(
        () => (++tries < 12 ? Promise.reject(failure('x', 'ECONNREFUSED')) : Promise.resolve()),
        {
          reconnect: () => Promise.resolve(),
          allowanceMs: 600_000,
          sleep: (ms) => {
            waits.push(ms);
            return Promise.resolve();
          },
        },
      );
      assert.equal(Math.max(...waits), MAX_RETRY_MS);
      assert.equal(waits.at(-1), MAX_RETRY_MS);
    });

    it('throws a failure that is no outage at once, without reconnecting', async () => {
      let reconnects = 0;
      await assert.rejects(
        retryThroughOutage(() => Promise.reject(failure('No space left on device', '53100')), {
          reconnect: () => {
            reconnects += 1;
            return Promise.resolve();
          },
          allowanceMs: 60_000,
          sleep: () => Promise.resolve(),
        }),
        /No space left on device/,
      );
      assert.equal(reconnects, 0);
    });

    it('gives up with the last failure once the database stayed away longer than the allowance', async () => {
      let tries = 0;
      await assert.rejects(
        retryThroughOutage(
          () => {
            tries += 1;
            return Promise.reject(failure('terminating connection', '57P01'));
          },
          {
            reconnect: () =>
              Promise.reject(new UserError('cannot connect to PostgreSQL at db:5432: refused')),
            allowanceMs: 30,
            sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))),
          },
        ),
        /cannot connect to PostgreSQL at db:5432/,
      );
      assert.equal(tries, 1, 'never tried again without a connection');
    });
  });
});
