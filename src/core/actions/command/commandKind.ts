/**
 * The command action: a program run with an argv array (never a shell), one process per record or one
 * per batch of records on stdin. This folder cannot depend on the vscode API.
 */
import type { AttemptOptions } from '../attempt';
import type { AttemptResult } from '../../model/attemptResult';
import type { ActionKind } from '../actionKind';
import type { CommandPreview } from '../compiledAction';
import type { Executor, ExecutionUnit, ExecutorOptions } from '../executor';
import { recordModeExecutor, wrongPreview } from '../executor';
import { withEnv } from '../targetText';
import { compileCommandAction } from './commandAction';
import type { BatchRecord } from './commandExecutor';
import { executeCommand, executeCommandBatch } from './commandExecutor';
import { commandActionSchema, type CommandActionSpec } from './commandSchema';

export const commandAction: ActionKind<typeof commandActionSchema, CommandPreview> = {
  type: 'command',
  schema: commandActionSchema,
  compile: (spec) => compileCommandAction(spec),
  createExecutor: (spec, opts) => commandExecutor(spec, opts),
  recordsPerAttempt: (spec, batchSize) => (spec.mode === 'batch' ? batchSize : 1),
  describe: (spec, vars) => `command ${JSON.stringify(spec.argv.map((arg) => withEnv(arg, vars)))}`,
  previewLines: (send) => [`argv: ${JSON.stringify(send.argv)}`, `stdin: ${send.stdin}`],
  fieldHelp: {
    argv: 'Command and arguments; each element stays one argument.',
    mode: '`record` (one process per record) or `batch` (JSON Lines on stdin).',
    env: 'Variables added to the command environment.',
  },
};

function commandExecutor(spec: CommandActionSpec, opts: ExecutorOptions): Executor {
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
