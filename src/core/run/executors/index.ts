/**
 * The entry point of execution: one executor per action spec, performing one attempt of a rendered
 * action at a time, with a uniform interface for HTTP, command and module actions. This file cannot
 * depend on the vscode API.
 *
 * Executors never throw for a record: every problem (a refused connection, an exit status, a thrown
 * handler error, a timeout) is an {@link AttemptResult} saying whether a retry may help. Messages are one
 * line and never contain request headers; the runner still redacts them before storing or showing them.
 */
import type { ActionPreview, CommandPreview, RenderContext } from '../../actions/compiledAction';
import { moduleContext } from '../../actions/moduleAction';
import type { ActionSpec, CommandActionSpec, ModuleActionSpec } from '../../format/schemas';
import { SecretResolver } from '../../secrets';
import type { ValidRecord } from '../../types';
import type { AttemptResult } from '../types';
import type { AttemptOptions } from './attempt';
import { failed } from './attempt';
import type { BatchRecord } from './commandExecutor';
import { executeCommand, executeCommandBatch } from './commandExecutor';
import { createHttpExecutor } from './httpExecutor';
import { createModuleExecutor } from './moduleExecutor';
import { createSqlExecutor } from '../../actions/sql/sqlExecutor';
import { createAmqpExecutor } from '../../actions/amqp/amqpExecutor';
import type { SqlLocation } from '../../actions/sql/sqlAction';

export type { AttemptOptions } from './attempt';
export { ABORTED_MESSAGE } from './attempt';
export type { BatchRecord, CommandOptions } from './commandExecutor';
export { RETRYABLE_EXIT_CODE, executeCommand, executeCommandBatch } from './commandExecutor';
export type { HttpExecutor } from './httpExecutor';
export { createHttpExecutor, executeHttp } from './httpExecutor';
export type { HandlerContext, ModuleExecutor } from './moduleExecutor';
export { createModuleExecutor } from './moduleExecutor';
export { MAX_RETRY_AFTER_MS, parseRetryAfter } from './retryAfter';
export { KILL_GRACE_MS } from './processRunner';

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
  /** Where a SQL action's statement errors point. */
  location?: SqlLocation;
}

/**
 * Creates the executor for an action spec. Throws a UserError when a module action's module cannot be
 * loaded, so a run refuses to start with that message instead of failing every record with it.
 */
export async function createExecutor(spec: ActionSpec, opts: ExecutorOptions): Promise<Executor> {
  switch (spec.type) {
    case 'http':
      return httpActionExecutor(opts);
    case 'command':
      return commandActionExecutor(spec, opts);
    case 'module':
      return moduleActionExecutor(spec, opts);
    case 'sql':
      return createSqlExecutor(spec, {
        context: opts.context ?? { env: {}, secrets: new SecretResolver({}) },
        concurrency: opts.concurrency,
        ...(opts.location ? { location: opts.location } : {}),
      });
    case 'amqp':
      return createAmqpExecutor(spec, {
        context: opts.context ?? { env: {}, secrets: new SecretResolver({}) },
      });
  }
}

function httpActionExecutor(opts: ExecutorOptions): Executor {
  const http = createHttpExecutor({ maxSockets: opts.concurrency });
  return recordModeExecutor(opts, {
    execute: (preview, _record, _ctx, attempt) =>
      preview.type === 'http'
        ? http.execute(preview, attempt)
        : Promise.resolve(wrongPreview('http', preview)),
    setConcurrency: (concurrency) => http.setMaxSockets(concurrency),
    close: () => http.close(),
  });
}

function commandActionExecutor(spec: CommandActionSpec, opts: ExecutorOptions): Executor {
  if (spec.mode === 'record') {
    return recordModeExecutor(opts, {
      execute: (preview, _record, _ctx, attempt) =>
        preview.type === 'command'
          ? executeCommand(preview, { ...attempt, cwd: opts.baseDir })
          : Promise.resolve(wrongPreview('command', preview)),
    });
  }
  return {
    mode: 'batch',
    // A single record in batch mode is a batch of one, so the program sees the input it expects.
    execute: async (preview, record, _ctx, attempt) => {
      const results = await runCommandBatches([{ ...record, preview }], opts.baseDir, attempt);
      return results.get(record.key) ?? wrongPreview('command', preview);
    },
    executeUnits: (units, attempt) => runCommandBatches(units, opts.baseDir, attempt),
    setConcurrency: () => undefined,
    close: () => Promise.resolve(),
  };
}

async function moduleActionExecutor(spec: ModuleActionSpec, opts: ExecutorOptions): Promise<Executor> {
  const handler = await createModuleExecutor(spec, opts.baseDir);
  return recordModeExecutor(opts, {
    execute: (_preview, record, ctx, attempt) =>
      handler.execute(record.fields, moduleContext(record, ctx, false), attempt),
  });
}

/** Fills in the parts every record-mode executor shares. */
function recordModeExecutor(
  opts: ExecutorOptions,
  parts: Pick<Executor, 'execute'> & Partial<Executor>,
): Executor {
  const { execute } = parts;
  const runContext = opts.context ?? { env: {}, secrets: new SecretResolver({}) };
  return {
    mode: 'record',
    execute,
    executeUnits: async (units, attempt) => {
      const results = new Map<string, AttemptResult>();
      for (const unit of units) {
        const ctx: RenderContext = { ...runContext, idempotencyKey: unit.idempotencyKey };
        results.set(unit.key, await execute(unit.preview, unit, ctx, attempt));
      }
      return results;
    },
    setConcurrency: parts.setConcurrency ?? (() => undefined),
    close: parts.close ?? (() => Promise.resolve()),
  };
}

/**
 * Runs batch-mode units, one process per distinct argv and env. Both are usually the same for every
 * record; when a template makes them differ, each variant still gets exactly what it rendered.
 */
async function runCommandBatches(
  units: Pick<ExecutionUnit, 'key' | 'preview'>[],
  cwd: string,
  attempt: AttemptOptions,
): Promise<Map<string, AttemptResult>> {
  const results = new Map<string, AttemptResult>();
  const groups = new Map<string, { preview: CommandPreview; records: BatchRecord[] }>();
  for (const { key, preview } of units) {
    if (preview.type !== 'command') {
      results.set(key, wrongPreview('command', preview));
      continue;
    }
    const groupKey = JSON.stringify([preview.argv, preview.env]);
    const group = groups.get(groupKey) ?? { preview, records: [] };
    group.records.push({ key, stdin: preview.stdin });
    groups.set(groupKey, group);
  }
  for (const { preview, records } of groups.values()) {
    const batch = await executeCommandBatch(preview.argv, preview.env, records, { ...attempt, cwd });
    for (const [key, result] of batch) results.set(key, result);
  }
  return results;
}

/** A preview of another action type: a bug in the caller, reported as a value like everything else. */
function wrongPreview(expected: string, preview: ActionPreview): AttemptResult {
  return failed(0, {
    kind: 'other',
    retryable: false,
    message: `internal error: a ${preview.type} preview was given to the ${expected} executor`,
  });
}
