/**
 * Checks a record's end state with a command: argv without a shell (each element one argument, templated
 * like a command action's), the record as one JSON line on stdin. Its exit code says whether the record is
 * right; with `expect.stdout`, the JSON object it prints is compared field by field. This folder cannot
 * depend on the vscode API.
 *
 * Exit codes: `expect.exitCode` (0) means the check ran (then stdout is judged, if expected); 75 asks for
 * a retry, as for actions; `expect.missingExitCode` means no such record; any other code is a mismatch.
 */
import { rangedNumber } from '../model/rangedNumber';
import type { CommandPreview } from '../actions/compiledAction';
import { compileCommandAction } from '../actions/command/commandAction';
import { mergeReferences } from '../actions/template';
import type { AttemptOptions } from '../actions/attempt';
import { HeadBuffer, failed, oneLineTail, quoted, startStopwatch } from '../actions/attempt';
import { RETRYABLE_EXIT_CODE, failedOrSucceeded } from '../actions/command/commandExecutor';
import { runProcess } from '../actions/command/processRunner';
import type { AttemptResult } from '../model/attemptResult';
import type { CompiledCheck } from './compiledCheck';
import { checked, invalidCheck } from './compiledCheck';
import { compareFields, compileExpectations, type ExpectedFields } from './expectations';
import { z } from 'zod';
import { withEnv } from '../actions/targetText';
import type { CheckKind } from './checkKind';
import { expectedFieldsSchema, toleranceSchema } from './expectations';

/** Runs a command per record and judges its exit code and, optionally, the JSON it prints. */
const CommandCheckSchema = z.strictObject({
  type: z.literal('command'),
  /** argv array, never a shell string; the record is written to stdin as one JSON line. */
  argv: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()).default({}),
  expect: z
    .strictObject({
      /** The exit code of a record in the right state; any other code (but 75, "retry") is a mismatch. */
      exitCode: rangedNumber('expect.exitCode').default(0),
      /** An exit code meaning "no such record". */
      missingExitCode: rangedNumber('expect.exitCode').optional(),
      /** Fields of the JSON object the command prints; empty output or `null` means the record is missing. */
      stdout: expectedFieldsSchema.optional(),
      tolerance: toleranceSchema,
    })
    .default({ exitCode: 0, tolerance: 0 }),
});

export type CommandCheckSpec = z.infer<typeof CommandCheckSchema>;

/** What a check command may print; a record's state is far smaller. */
const MAX_STDOUT_BYTES = 1024 * 1024;

/** How much of stderr a mismatch's detail quotes. */
const QUOTED_STDERR = 200;

/** Compiles the argv, env and stdout expectations of a command check. */
export function compileCommandCheck(spec: CommandCheckSpec): CompiledCheck {
  const command = compileCommandAction({ type: 'command', argv: spec.argv, mode: 'record', env: spec.env });
  const expectations =
    spec.expect.stdout === undefined ? undefined : compileExpectations(spec.expect.stdout, 'expect.stdout');
  const issues = [...command.issues, ...(expectations && !expectations.ok ? expectations.issues : [])];
  if (issues.length > 0 || (expectations && !expectations.ok)) return invalidCheck(issues);
  const expected = expectations?.expectations;
  return {
    issues: [],
    references: mergeReferences([command.references, ...(expected ? [expected.references] : [])]),
    open: ({ baseDir, context }) =>
      Promise.resolve({
        prepare: (record) => {
          const rendered = command.render(record, context);
          if (!rendered.ok) return rendered;
          const preview = rendered.preview;
          if (preview.type !== 'command') return { ok: false, reason: 'internal error: not a command' };
          const values = { record: record.fields, env: context.env, secrets: context.secrets };
          const fields = expected?.render(values);
          if (fields && !fields.ok) return fields;
          return {
            ok: true,
            value: (opts: AttemptOptions) =>
              runCheck(preview, { ...opts, cwd: baseDir }, spec.expect, fields?.value),
          };
        },
        setConcurrency: () => undefined,
        close: () => Promise.resolve(),
      }),
  };
}

async function runCheck(
  preview: CommandPreview,
  opts: AttemptOptions & { cwd: string },
  expect: CommandCheckSpec['expect'],
  expected: ExpectedFields | undefined,
): Promise<AttemptResult> {
  const elapsed = startStopwatch();
  const stdout = new HeadBuffer(MAX_STDOUT_BYTES);
  const spec = { argv: preview.argv, env: preview.env, stdin: preview.stdin };
  const outcome = await runProcess(spec, { ...opts, onStdout: (chunk) => stdout.write(chunk) });
  const durationMs = elapsed();
  // Timeouts, stops, programs that could not start or were killed: the check was not made.
  if (outcome.kind !== 'exited' || outcome.code === null) {
    return failedOrSucceeded(outcome, preview.argv, opts, durationMs);
  }
  const code = outcome.code;
  if (code === expect.exitCode) return judgeOutput(stdout, durationMs, expected, expect.tolerance);
  if (code === expect.missingExitCode) {
    return checked(durationMs, { status: 'missing', detail: `exit code ${code}: no such record` });
  }
  if (code === RETRYABLE_EXIT_CODE) return failedOrSucceeded(outcome, preview.argv, opts, durationMs);
  const stderr = outcome.output.stderr.trim();
  const detail = `exit code ${code}, expected ${expect.exitCode}${stderr ? `: ${oneLineTail(stderr, QUOTED_STDERR)}` : ''}`;
  return checked(durationMs, {
    status: 'mismatch',
    detail,
    expected: { exitCode: expect.exitCode },
    actual: { exitCode: code },
  });
}

/** Empty output or `null` means the command found no such record; otherwise one JSON object. */
function judgeOutput(
  stdout: HeadBuffer,
  durationMs: number,
  expected: ExpectedFields | undefined,
  tolerance: number,
): AttemptResult {
  if (expected === undefined) return checked(durationMs, { status: 'verified' });
  const unreadable = (message: string) => failed(durationMs, { kind: 'other', retryable: false, message });
  if (stdout.truncated) return unreadable('the check command printed more than 1 MiB: not a record');
  const text = stdout.text().trim();
  if (text === '' || text === 'null') {
    return checked(durationMs, {
      status: 'missing',
      detail: 'the check command printed nothing: no such record',
    });
  }
  let printed: unknown;
  try {
    printed = JSON.parse(text);
  } catch {
    return unreadable(`the check command did not print JSON: ${quoted(text)}`);
  }
  return checked(durationMs, compareFields(expected, printed, tolerance));
}

export const commandCheck: CheckKind<typeof CommandCheckSchema> = {
  type: 'command',
  schema: CommandCheckSchema,
  compile: (spec) => compileCommandCheck(spec),
  describe: (spec, vars) => `command ${JSON.stringify(spec.argv.map((arg) => withEnv(arg, vars)))}`,
  fieldHelp: {
    argv: 'Command and arguments; the record is written to stdin as one JSON line.',
    env: 'Variables added to the command environment.',
    expect:
      'What the command must say: `exitCode` (default 0), `missingExitCode`, `stdout` fields, `tolerance`.',
  },
};
