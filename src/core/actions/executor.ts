/**
 * What every action kind's executor offers the runner: one attempt of a rendered action at a time, with a
 * uniform interface for every kind (each kind creates its own, see its folder). This file cannot depend
 * on the vscode API.
 *
 * Executors never throw for a record: every problem (a refused connection, an exit status, a thrown
 * handler error, a timeout) is an {@link AttemptResult} saying whether a retry may help. Messages are one
 * line and never contain request headers; the runner still redacts them before storing or showing them.
 */
import { SecretResolver } from '../secrets/secrets';
import type { ValidRecord } from '../model/types';
import type { AttemptOptions } from './attempt';
import { failed } from './attempt';
import type { AttemptResult } from '../model/attemptResult';
import type { ActionPreview, RenderContext } from './compiledAction';

/** One record to attempt, as rendered for this run. */
export interface ExecutionUnit {
  key: string;
  /** The record's line in the source, for module handlers' context. */
  line: number;
  fields: Record<string, unknown>;
  preview: ActionPreview;
  /** The key the preview was rendered with; module handlers receive it in their context. */
  idempotencyKey?: string;
}

/** Performs attempts of one action. */
export interface Executor {
  /**
   * `batch` for a command action in batch mode: the runner groups records (up to `batchSize`) and calls
   * {@link executeUnits} with the group. `record` for everything else: one record per attempt.
   */
  readonly mode: 'record' | 'batch';
  /** One attempt for one record. Never throws. */
  execute(
    preview: ActionPreview,
    record: ValidRecord,
    ctx: RenderContext,
    opts: AttemptOptions,
  ): Promise<AttemptResult>;
  /**
   * One attempt for each unit, results keyed by record key. In batch mode, units rendered with the same
   * argv and env share one process (groups run one after another) and the deadline applies to each
   * process; in record mode the units are attempted one after another, so the runner's concurrency is
   * never exceeded. Never throws.
   */
  executeUnits(units: ExecutionUnit[], opts: AttemptOptions): Promise<Map<string, AttemptResult>>;
  /**
   * Follows a live concurrency change: HTTP connections per host are capped at it, so requests beyond
   * the cap would otherwise wait for a socket and spend their deadline waiting.
   */
  setConcurrency(concurrency: number): void;
  /** Releases pooled connections. Attempts still in flight end with a connection failure. */
  close(): Promise<void>;
}

/** Where and how hard an executor works. */
export interface ExecutorOptions {
  /** The runbook's folder: module paths are relative to it, and commands run in it. */
  baseDir: string;
  /** The run's concurrency, which caps pooled HTTP connections per host. */
  concurrency: number;
  /**
   * The run's environment vars and secrets, which module handlers reach through `ctx.env` and
   * `ctx.secret()` when called through {@link Executor.executeUnits}. Without it they see no vars and
   * no secrets. ({@link Executor.execute} uses the context it is given.)
   */
  context?: Pick<RenderContext, 'env' | 'secrets'>;
  /** Where the action is written, so errors the target finds in it (a SQL statement) point at its line. */
  location?: { file: string; cell: string; line: number };
}

/** Fills in the parts every record-mode executor shares. */
export function recordModeExecutor(
  opts: ExecutorOptions,
  parts: Pick<Executor, 'execute'> & Partial<Executor>,
): Executor {
  const { execute } = parts;
  const { env, secrets } = opts.context ?? { env: {}, secrets: new SecretResolver({}) };
  const attemptOne = (unit: ExecutionUnit, attempt: AttemptOptions) =>
    execute(unit.preview, unit, { env, secrets, idempotencyKey: unit.idempotencyKey }, attempt);
  return {
    mode: 'record',
    execute,
    executeUnits: (units, attempt) => {
      // One unit per attempt is the rule in record mode: no async function and no await for it.
      if (units.length === 1) {
        const unit = units[0]!;
        return attemptOne(unit, attempt).then((result) =>
          new Map<string, AttemptResult>().set(unit.key, result),
        );
      }
      return attemptInTurn(units, attempt, attemptOne);
    },
    setConcurrency: parts.setConcurrency ?? (() => undefined),
    close: parts.close ?? (() => Promise.resolve()),
  };
}

/** Attempts the units one after another, so the runner's concurrency is never exceeded. */
async function attemptInTurn(
  units: ExecutionUnit[],
  attempt: AttemptOptions,
  attemptOne: (unit: ExecutionUnit, attempt: AttemptOptions) => Promise<AttemptResult>,
): Promise<Map<string, AttemptResult>> {
  const results = new Map<string, AttemptResult>();
  for (const unit of units) results.set(unit.key, await attemptOne(unit, attempt));
  return results;
}

/** A preview of another action type: a bug in the caller, reported as a value like everything else. */
export function wrongPreview(expected: string, preview: ActionPreview): AttemptResult {
  return failed(0, {
    kind: 'other',
    retryable: false,
    message: `internal error: a ${preview.type} preview was given to the ${expected} executor`,
  });
}
