/**
 * What an action kind (http, command, module, …) supplies: everything about it lives in its own folder,
 * and src/core/actions/actionKinds.ts lists the kinds. A descriptor missing a part does not compile, and
 * test/core/actions/actionKinds.test.ts checks every registered kind. This folder cannot depend on the
 * vscode API.
 */
import type { z } from 'zod';
import type { FieldHelp } from '../model/kindHelp';
import type { ActionPreview, CompiledAction } from './compiledAction';
import type { Executor, ExecutorOptions } from './executor';

/** The strict zod object schema of one kind's spec, whose `type` is the kind's literal name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- zod's object config is not ours to name
export type KindSchema = z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape, any>;

/** What compiling an action needs besides its spec. */
export interface CompileOptions {
  /** The runbook's folder: module paths are relative to it. */
  baseDir: string;
  /** Where the action is written, so errors the target finds in it (a SQL statement) point at its line. */
  location?: ActionLocation;
}

/** The runbook file, the job cell and the line of its `action`. */
export interface ActionLocation {
  file: string;
  cell: string;
  line: number;
}

/** One action kind: its schema, how it is compiled, how it runs, how it is described, its editor help. */
export interface ActionKind<
  Schema extends KindSchema = KindSchema,
  Preview extends ActionPreview = ActionPreview,
> {
  /** The `type:` that selects this kind, equal to the schema's literal. */
  readonly type: z.output<Schema>['type'];
  /** The kind's fields, strict: the runbook format's `action:` union is built from these. */
  readonly schema: Schema;
  /** Compiles the spec once: templates, field problems as issues (never a throw). */
  compile(spec: z.output<Schema>, opts: CompileOptions): CompiledAction;
  /** The executor of a run; throws a UserError when it cannot be created (a module that does not load). */
  createExecutor(spec: z.output<Schema>, opts: ExecutorOptions): Executor | Promise<Executor>;
  /** Records per attempt given the throttle's `batchSize`: 1 unless the kind sends records in batches. */
  recordsPerAttempt(spec: z.output<Schema>, batchSize: number): number;
  /**
   * The target in words for a person (the plan, the production confirmation, the report): `${env:NAME}`
   * filled from `vars`, record and secret placeholders as written.
   */
  describe(spec: z.output<Schema>, vars: Readonly<Record<string, string>>): string;
  /** What a dry run would send for one record, as the lines of the command line's dry-run text. */
  previewLines(preview: Preview): string[];
  /** Help for each field but `type`, for the editor. */
  readonly fieldHelp: FieldHelp;
}
