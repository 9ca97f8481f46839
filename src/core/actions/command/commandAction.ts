/**
 * Compiles a command action spec into the argv, stdin and environment it would run with for each record.
 * This file cannot depend on the vscode API, and rendering never spawns a process.
 *
 * There is no shell anywhere: each argv element is one template and becomes exactly one argument,
 * whatever the record value contains.
 */
import type { CommandActionSpec } from './commandSchema';
import type { ValidRecord } from '../../model/types';
import type {
  ActionIssue,
  CommandPreview,
  CompiledAction,
  RenderContext,
  RenderResult,
} from '../compiledAction';
import { loaderVariableProblem } from '../loaderVariables';
import { invalidAction, renderOnlyAction } from '../compiledAction';
import type { CompiledTemplate, Rendered, TemplateValues } from '../template';
import { compileTemplate, describeSource, mergeReferences } from '../template';

/** The variable a record-mode command finds its idempotency key in. */
export const IDEMPOTENCY_KEY_ENV = 'BACKFILL_IDEMPOTENCY_KEY';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface CompiledArgument {
  template: CompiledTemplate;
  /** The argument starts with a record value and no `--` came before it, so it could read as an option. */
  couldBeOption: boolean;
}

/** Compiles every argv element and env value once; issues name the element, e.g. `argv[2]`. */
export function compileCommandAction(spec: CommandActionSpec): CompiledAction {
  const issues: ActionIssue[] = [];
  const argv = compileArgv(spec.argv, issues);
  const env = compileEnv(spec.env, issues);
  if (issues.length > 0) return invalidAction(spec, issues);

  const references = mergeReferences([
    ...argv.map((argument) => argument.template.references()),
    ...env.map(([, template]) => template.references()),
  ]);
  return renderOnlyAction(spec, references, (record, ctx) => renderCommand(spec, argv, env, record, ctx));
}

function compileArgv(argv: string[], issues: ActionIssue[]): CompiledArgument[] {
  const compiled: CompiledArgument[] = [];
  let afterDoubleDash = false;
  argv.forEach((text, index) => {
    const result = compileTemplate(text, 'argv');
    if (!result.ok) {
      issues.push({ field: `argv[${index}]`, message: `${result.message} (column ${result.column})` });
      return;
    }
    const template = result.template;
    const usesRecord = template.references().recordFields.length > 0;
    if (index === 0 && usesRecord) {
      issues.push({ field: 'argv[0]', message: 'the program to run cannot come from a record value' });
      return;
    }
    const first = template.parts[0];
    compiled.push({ template, couldBeOption: !afterDoubleDash && index > 0 && first?.kind === 'record' });
    if (text === '--') afterDoubleDash = true;
  });
  return compiled;
}

function compileEnv(env: Record<string, string>, issues: ActionIssue[]): [string, CompiledTemplate][] {
  const compiled: [string, CompiledTemplate][] = [];
  for (const [name, text] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      const why = name.includes('${') ? ': a name cannot come from a template or a record value' : '';
      issues.push({
        field: `env.${name}`,
        message: `"${name}" is not a valid environment variable name${why}`,
      });
      continue;
    }
    // Environment values travel like arguments: any text but NUL, never through a shell.
    const result = compileTemplate(text, 'argv');
    const loader = result.ok && loaderVariableProblem(name, result.template.references().recordFields);
    if (loader) issues.push({ field: `env.${name}`, message: loader });
    else if (result.ok) compiled.push([name, result.template]);
    else issues.push({ field: `env.${name}`, message: `${result.message} (column ${result.column})` });
  }
  return compiled;
}

function renderCommand(
  spec: CommandActionSpec,
  argv: CompiledArgument[],
  envTemplates: [string, CompiledTemplate][],
  record: ValidRecord,
  ctx: RenderContext,
): RenderResult {
  const values: TemplateValues = { record: record.fields, env: ctx.env, secrets: ctx.secrets };
  const rendered: string[] = [];
  for (const [index, argument] of argv.entries()) {
    const value = renderArgument(argument, values);
    if (!value.ok) return { ok: false, reason: `argv[${index}]: ${value.reason}` };
    rendered.push(value.value);
  }

  const env: Record<string, string> = {};
  for (const [name, template] of envTemplates) {
    const value = template.render(values);
    if (!value.ok) return { ok: false, reason: `env ${name}: ${value.reason}` };
    env[name] = value.value;
  }
  // One key per process only makes sense when each process handles one record.
  if (spec.mode === 'record' && ctx.idempotencyKey !== undefined) {
    if (ctx.idempotencyKey.includes('\0'))
      return { ok: false, reason: 'the idempotency key contains a NUL character' };
    env[IDEMPOTENCY_KEY_ENV] = ctx.idempotencyKey;
  }

  const preview: CommandPreview = {
    type: 'command',
    mode: spec.mode,
    argv: rendered,
    stdin: `${JSON.stringify(record.fields)}\n`,
    env,
  };
  return { ok: true, preview };
}

function renderArgument(argument: CompiledArgument, values: TemplateValues): Rendered<string> {
  const rendered = argument.template.render(values);
  if (!rendered.ok || !argument.couldBeOption || !rendered.value.startsWith('-')) return rendered;
  // `--force` from a record would be an option to the program, not data: refuse unless `--` ends options.
  const first = argument.template.parts[0];
  const source = first && first.kind !== 'literal' ? describeSource(first) : 'a record value';
  // A reason may be logged, so an argument that also holds a secret is not repeated in it.
  const holdsSecret = argument.template.references().secretNames.length > 0;
  const shown = holdsSecret ? '' : ` ${JSON.stringify(rendered.value)}`;
  return {
    ok: false,
    reason: `${source} makes the argument${shown} start with "-", so the program would read it as an option: put "--" before it in argv`,
  };
}
