import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { SqlJsLedger } from '../../../src/core/ledger/sqlJsLedger';
import type { LockInfo } from '../../../src/core/ledger/lock';
import { acquireRunLock, lockFileIn, markCrashedRuns } from '../../../src/core/ledger/lock';
import { UserError } from '../../../src/core/model/types';
import { deadPid, outcome, readLedger, run, sleepingChild, useRunbook, withSavedLedger } from './helpers';

describe('acquireRunLock', () => {
  const paths = useRunbook();
  const lockFile = () => lockFileIn(paths.stateDir);

  function holder(overrides: Partial<LockInfo> = {}): LockInfo {
    return {
      pid: process.pid,
      host: os.hostname(),
      runId: 'run-1',
      cell: 'orders',
      startedAt: new Date().toISOString(),
      ...overrides,
    };
  }

  /** A lock file as another process would have left it. */
  function writeLock(info: LockInfo | string): void {
    fs.mkdirSync(paths.stateDir, { recursive: true });
    fs.writeFileSync(lockFile(), typeof info === 'string' ? info : JSON.stringify(info));
  }

  it('writes who holds the lock into the lock file and removes it on release', () => {
    const info = holder();
    const lock = acquireRunLock(paths.stateDir, info);
    const content = JSON.parse(fs.readFileSync(lockFile(), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.fromEntries(Object.keys(info).map((key) => [key, content[key]])), info);
    assert.equal(lock.takenOver, undefined);
    lock.release();
    assert.equal(fs.existsSync(lockFile()), false);
    assert.deepEqual(fs.readdirSync(paths.stateDir), [], 'no temporary file is left behind');
  });

  it('refuses a second run while the lock is held by a live process, saying who and how to stop it', () => {
    const info = holder({ runId: 'run-7', startedAt: '2026-03-01T10:00:00.000Z' });
    const lock = acquireRunLock(paths.stateDir, info);
    try {
      assert.throws(
        () => acquireRunLock(paths.stateDir, holder({ runId: 'run-8' })),
        (error: Error) => {
          assert.ok(error instanceof UserError);
          assert.equal(
            error.message,
            `runbook is already being run by pid ${process.pid} on ${os.hostname()} since 2026-03-01T10:00:00.000Z ` +
              `(run run-7, cell orders): wait for it, or stop it with backfill control ${paths.runbook} stop`,
          );
          return true;
        },
      );
    } finally {
      lock.release();
    }
  });

  it('refuses while another live process holds the lock', async () => {
    const child = await sleepingChild();
    try {
      writeLock(holder({ pid: child.pid }));
      const before = fs.readFileSync(lockFile());
      assert.throws(() => acquireRunLock(paths.stateDir, holder()), new RegExp(`by pid ${child.pid} on`));
      assert.deepEqual(fs.readFileSync(lockFile()), before);
    } finally {
      await child.stop();
    }
  });

  it('takes over the lock of a process that has exited and says so', async () => {
    const gone = await deadPid();
    writeLock(holder({ pid: gone, runId: 'run-old' }));
    const lock = acquireRunLock(paths.stateDir, holder({ runId: 'run-new' }));
    try {
      assert.equal(lock.takenOver?.info?.runId, 'run-old');
      assert.equal(lock.takenOver?.reason, `pid ${gone} is no longer running`);
      assert.equal((JSON.parse(fs.readFileSync(lockFile(), 'utf8')) as LockInfo).runId, 'run-new');
    } finally {
      lock.release();
    }
  });

  it('takes over a lock file that is not a lock', () => {
    writeLock('{"pid": "not a num');
    const lock = acquireRunLock(paths.stateDir, holder({ runId: 'run-new' }));
    try {
      assert.match(lock.takenOver?.reason ?? '', /^the lock file is unreadable \(not JSON/);
      assert.equal(lock.takenOver?.info, undefined);
    } finally {
      lock.release();
    }
  });

  if (process.platform === 'linux') {
    it('takes over a lock taken before this host restarted, even if its pid is alive again', () => {
      writeLock({ ...holder({ runId: 'run-old' }), bootId: 'a-previous-boot' } as LockInfo);
      const lock = acquireRunLock(paths.stateDir, holder({ runId: 'run-new' }));
      try {
        assert.equal(
          lock.takenOver?.reason,
          `${os.hostname()} restarted since pid ${process.pid} took the lock`,
        );
      } finally {
        lock.release();
      }
    });

    it('takes over a lock whose pid now belongs to another process', () => {
      writeLock({ ...holder({ runId: 'run-old' }), processStart: '1' } as LockInfo);
      const lock = acquireRunLock(paths.stateDir, holder({ runId: 'run-new' }));
      try {
        assert.equal(lock.takenOver?.reason, `pid ${process.pid} now belongs to another process`);
      } finally {
        lock.release();
      }
    });
  }

  it('never takes over a lock from another host, and says how to remove it if that host is gone', async () => {
    writeLock(holder({ pid: await deadPid(), host: 'bastion-elsewhere' }));
    const before = fs.readFileSync(lockFile());
    assert.throws(
      () => acquireRunLock(paths.stateDir, holder()),
      (error: Error) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /on bastion-elsewhere since .* another host/);
        assert.ok(
          error.message.includes(`If bastion-elsewhere is gone and that run with it, remove ${lockFile()}`),
        );
        return true;
      },
    );
    assert.deepEqual(fs.readFileSync(lockFile()), before);
  });

  it('does not remove on release a lock that another process took over meanwhile', () => {
    const lock = acquireRunLock(paths.stateDir, holder({ runId: 'run-1' }));
    writeLock(holder({ runId: 'run-2' }));
    lock.release();
    assert.equal((JSON.parse(fs.readFileSync(lockFile(), 'utf8')) as LockInfo).runId, 'run-2');
  });
});

describe('markCrashedRuns', () => {
  const paths = useRunbook();

  it('marks runs left running as crashed, except the live one, and saves the ledger', async () => {
    await withSavedLedger(paths.runbook, async (ledger) => {
      await ledger.startRun(run('run-dead', { startedAt: '2026-03-01T10:00:00.000Z' }));
      ledger.upsertOutcome(outcome('1', { run: 'run-dead', at: '2026-03-01T10:05:00.000Z' }));
      await ledger.startRun(run('run-finished', { outcome: 'succeeded' }));
      await ledger.startRun(run('run-live', { startedAt: '2026-03-02T10:00:00.000Z' }));
    });
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      assert.deepEqual(
        (await markCrashedRuns(ledger, 'run-live')).map((r) => r.id),
        ['run-dead'],
      );
    } finally {
      await ledger.close();
    }
    const runs = await readLedger(paths.runbook, async (ledger) => await ledger.runs());
    const byId = new Map(runs.map((r) => [r.id, r]));
    assert.equal(byId.get('run-dead')?.outcome, 'crashed');
    assert.equal(byId.get('run-dead')?.endedAt, '2026-03-01T10:05:00.000Z');
    assert.match(byId.get('run-dead')?.reason ?? '', /stopped without finishing/);
    assert.equal(byId.get('run-live')?.outcome, 'running');
    assert.equal(byId.get('run-finished')?.outcome, 'succeeded');
  });

  it('changes and saves nothing when no run was left running', async () => {
    await withSavedLedger(
      paths.runbook,
      async (ledger) => await ledger.startRun(run('run-1', { outcome: 'halted' })),
    );
    const before = fs.readFileSync(paths.ledgerFile);
    const ledger = await SqlJsLedger.open(paths.runbook);
    try {
      assert.deepEqual(await markCrashedRuns(ledger), []);
    } finally {
      await ledger.close();
    }
    assert.deepEqual(fs.readFileSync(paths.ledgerFile), before);
  });
});
