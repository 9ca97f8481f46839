/**
 * The run's side of the fold worker (foldWorker.ts): started with the run's recorder, asked to fold
 * each time the journal rotates, stopped when the run closes its journal. A fold that fails rejects with the
 * worker's message (a UserError stays one), and the run halts as for any write the state folder refuses.
 *
 * This folder cannot depend on the vscode API.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from '../model/types';
import type { FoldReply } from './foldWorker';
import type { SqlJsLedger } from './sqlJsLedger';

export class FoldThread {
  private worker: Worker | undefined;
  /** The fold under way: the worker answers each request once, in order. */
  private waiting: { resolve: (entries: number) => void; reject: (error: Error) => void } | undefined;
  private folded = false;

  /**
   * Starts the worker at once, so that loading its bundle and compiling sql.js (a few hundred ms) go on
   * beside the run instead of delaying the first fold, which may be the run's last.
   */
  constructor(
    private readonly runbookFile: string,
    /** The run's own copy of the ledger: saved before the worker opens its own, read again after each fold. */
    private readonly ledger: SqlJsLedger,
  ) {
    this.worker = this.start();
  }

  /** Folds the rotated journal files into the ledger on disk; resolves with how many entries. */
  async fold(): Promise<number> {
    if (this.waiting) throw new Error('a fold is already under way');
    if (!this.folded) {
      // What this process changed before the run (runs it found crashed) is saved first: the worker
      // opens the ledger on disk at its first fold. One another process saved meanwhile is its to read.
      if (this.ledger.isUnchangedOnDisk()) await this.ledger.save();
      this.folded = true;
    }
    this.worker ??= this.start();
    const worker = this.worker;
    worker.ref();
    try {
      const entries = await new Promise<number>((resolve, reject) => {
        this.waiting = { resolve, reject };
        worker.postMessage({ type: 'fold' });
      });
      // The worker saved the ledger: this copy reads it again, so what the run reads next is the truth.
      this.ledger.reload();
      return entries;
    } finally {
      this.waiting = undefined;
      // An idle worker does not keep the process alive.
      this.worker?.unref();
    }
  }

  /** Stops the worker; a fold under way is abandoned (its files stay for the next fold). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(workerFile(), {
      workerData: { runbookFile: this.runbookFile },
      execArgv: workerExecArgv(),
    });
    worker.on('message', (reply: FoldReply) => {
      if (reply.ok) this.waiting?.resolve(reply.entries);
      else this.waiting?.reject(reply.userError ? new UserError(reply.message) : new Error(reply.message));
    });
    worker.on('error', (error) => this.stopped(error));
    worker.on('exit', (code) =>
      this.stopped(new Error(`the ledger's fold worker stopped (exit code ${code})`)),
    );
    worker.unref();
    return worker;
  }

  /** The worker died: the fold under way fails, and the next one starts a new worker. */
  private stopped(error: Error): void {
    this.worker = undefined;
    this.waiting?.reject(error);
  }
}

/**
 * Beside the bundle that runs the run (dist/foldWorker.js); from source (tests), the TypeScript file,
 * loaded through tsx as the tests are.
 */
function workerFile(): string {
  return path.join(__dirname, runFromSource() ? 'foldWorker.ts' : 'foldWorker.js');
}

function workerExecArgv(): string[] | undefined {
  // createRequire: a bundler leaves it alone, where it would try to bundle `require.resolve('tsx/cjs')`.
  return runFromSource()
    ? [...process.execArgv, '--require', createRequire(__filename).resolve('tsx/cjs')]
    : undefined;
}

function runFromSource(): boolean {
  return __filename.endsWith('.ts');
}
