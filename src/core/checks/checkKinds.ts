/**
 * The registry of verify-check kinds: the one list of what a verify cell's `check:` can be. The runbook
 * format's schema, compiling, describing and the editor's help all go through it, so adding a kind is its
 * module plus one line below. This folder cannot depend on the vscode API.
 */
import { z } from 'zod';
import { familyFieldHelp, kindFieldHelp } from '../model/kindHelp';
import type { CheckKind, CheckKindSchema } from './checkKind';
import { commandCheck } from './commandCheck';
import type { CompiledCheck } from './compiledCheck';
import { httpCheck } from './httpCheck';
import { moduleCheck } from './moduleCheck';
import { postgresCheck } from './postgresCheck';
import { sqliteCheck } from './sqliteCheck';

/** Every check kind, in the order the editor lists them. */
export const checkKinds = [httpCheck, commandCheck, moduleCheck, sqliteCheck, postgresCheck] as const;

type SchemasOf<Kinds extends readonly { schema: CheckKindSchema }[]> = {
  [I in keyof Kinds]: Kinds[I]['schema'];
};

/** A verify cell's `check`, by `type`: the union of every registered kind's schema. */
export const CheckSchema = z.discriminatedUnion(
  'type',
  checkKinds.map((kind) => kind.schema) as unknown as SchemasOf<typeof checkKinds>,
);

export type CheckSpec = z.infer<typeof CheckSchema>;

/** The help of a `check:` mapping's fields, for the editor. */
export const checkFieldHelp = familyFieldHelp(checkKinds);

/** The help of a `check:` mapping whose `type:` is `type`: that kind's fields only (all kinds' when unknown). */
export function checkFieldHelpFor(type: string | undefined) {
  return kindFieldHelp(checkKinds, type);
}

/** The kind of a check spec; the schema admits no other type, so a miss is a bug. */
export function checkKindOf(spec: CheckSpec): CheckKind {
  const kind = checkKinds.find((candidate) => candidate.type === spec.type);
  if (!kind) throw new Error(`internal error: no check kind "${spec.type}" is registered`);
  // Each kind's parts take its own spec; the registry hands them the spec its `type` selected.
  return kind as unknown as CheckKind;
}

/**
 * Compiles a check spec once. Problems in the spec come back in `issues`, each naming its field
 * (`url`, `expect.body.amount`, `argv[1]`, `params[0]`), relative to `check`.
 */
export function compileCheck(spec: CheckSpec): CompiledCheck {
  return checkKindOf(spec).compile(spec);
}

/** Where checks go, in words, e.g. `GET https://orders.internal/orders/${record:id}`. */
export function describeCheck(spec: CheckSpec, vars: Readonly<Record<string, string>> = {}): string {
  return checkKindOf(spec).describe(spec, vars);
}
