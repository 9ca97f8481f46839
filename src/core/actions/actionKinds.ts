/**
 * The registry of action kinds: the one list of what a job's `action:` can be. The runbook format's
 * schema, compiling, executing, describing and the editor's help all go through it, so adding a kind is
 * its folder plus one line below. This folder cannot depend on the vscode API.
 */
import { z } from 'zod';
import { familyFieldHelp, kindFieldHelp } from '../model/kindHelp';
import type { ActionKind, CompileOptions, KindSchema } from './actionKind';
import { amqpAction } from './amqp/amqpKind';
import { commandAction } from './command/commandKind';
import type { ActionPreview, CompiledAction } from './compiledAction';
import type { Executor, ExecutorOptions } from './executor';
import { httpAction } from './http/httpKind';
import { moduleAction } from './module/moduleKind';
import { sqlAction } from './sql/sqlKind';

/** Every action kind, in the order the editor lists them. */
export const actionKinds = [httpAction, commandAction, moduleAction, sqlAction, amqpAction] as const;

type SchemasOf<Kinds extends readonly { schema: KindSchema }[]> = { [I in keyof Kinds]: Kinds[I]['schema'] };

/** A job's `action:`, by `type`: the union of every registered kind's schema. */
export const ActionSchema = z.discriminatedUnion(
  'type',
  actionKinds.map((kind) => kind.schema) as unknown as SchemasOf<typeof actionKinds>,
);

export type ActionSpec = z.infer<typeof ActionSchema>;

/** The help of an `action:` mapping's fields, for the editor. */
export const actionFieldHelp = familyFieldHelp(actionKinds);

/** The help of a `action:` mapping whose `type:` is `type`: that kind's fields only (all kinds' when unknown). */
export function actionFieldHelpFor(type: string | undefined) {
  return kindFieldHelp(actionKinds, type);
}

/** The kind of an action spec (or preview); the schema admits no other type, so a miss is a bug. */
export function actionKindOf<S extends { type: string }>(spec: S): ActionKind<KindSchema, ActionPreview> {
  const kind = actionKinds.find((candidate) => candidate.type === spec.type);
  if (!kind) throw new Error(`internal error: no action kind "${spec.type}" is registered`);
  // Each kind's parts take its own spec; the registry hands them the spec its `type` selected.
  return kind as unknown as ActionKind<KindSchema, ActionPreview>;
}

/**
 * Compiles an action spec once. Problems in the spec come back in `issues`, each naming its field
 * (`url`, `headers.Authorization`, `body.items[0]`, `argv[2]`, `env.TOKEN`, `path`); such an action
 * refuses every record with them. `baseDir` is the runbook's folder: module paths are relative to it.
 */
export function compileAction(spec: ActionSpec, opts: CompileOptions): CompiledAction {
  return actionKindOf(spec).compile(spec, opts);
}

/**
 * Creates the executor for an action spec. Throws a UserError when a module action's module cannot be
 * loaded, so a run refuses to start with that message instead of failing every record with it.
 */
export async function createExecutor(spec: ActionSpec, opts: ExecutorOptions): Promise<Executor> {
  return actionKindOf(spec).createExecutor(spec, opts);
}

/** Records per attempt: the throttle's batch size for a kind that sends batches, else 1. */
export function recordsPerAttempt(spec: ActionSpec, batchSize: number): number {
  return actionKindOf(spec).recordsPerAttempt(spec, batchSize);
}

/**
 * The target in words, the same for the plan, the dry run, the production confirmation and the report:
 * e.g. `POST https://orders.internal/orders/${record:id}/resend`, `${env:NAME}` filled from `vars`.
 */
export function describeAction(spec: ActionSpec, vars: Readonly<Record<string, string>> = {}): string {
  return actionKindOf(spec).describe(spec, vars);
}

/** What a dry run would send for one record, as lines of text. */
export function previewLines(preview: ActionPreview): string[] {
  return actionKindOf(preview).previewLines(preview);
}
