/**
 * What a verify-check kind (http, command, module, sqlite, …) supplies: everything about it lives in its
 * own module, and src/core/checks/checkKinds.ts lists the kinds. A descriptor missing a part does not
 * compile, and test/core/checks/checkKinds.test.ts checks every registered kind. This folder cannot
 * depend on the vscode API.
 */
import type { z } from 'zod';
import type { FieldHelp } from '../model/kindHelp';
import type { CompiledCheck } from './compiledCheck';

/** The strict zod object schema of one kind's spec, whose `type` is the kind's literal name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- zod's object config is not ours to name
export type CheckKindSchema = z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape, any>;

/** One check kind: its schema, how it is compiled (and, through that, opened and run), how it is described. */
export interface CheckKind<Schema extends CheckKindSchema = CheckKindSchema> {
  /** The `type:` that selects this kind, equal to the schema's literal. */
  readonly type: z.output<Schema>['type'];
  /** The kind's fields, strict: the runbook format's `check:` union is built from these. */
  readonly schema: Schema;
  /** Compiles the spec once (issues at their field, never a throw); the result opens and runs checks. */
  compile(spec: z.output<Schema>): CompiledCheck;
  /** Where checks go, in words: `${env:NAME}` filled from `vars`, record and secret placeholders as written. */
  describe(spec: z.output<Schema>, vars: Readonly<Record<string, string>>): string;
  /** Help for each field but `type`, for the editor. */
  readonly fieldHelp: FieldHelp;
}
