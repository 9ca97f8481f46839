/**
 * The `backfill` command line: a thin adapter over src/core. It parses arguments, calls the core and
 * maps outcomes to exit codes (see exitCodes.ts). Located problems are printed one per line as
 * `FILE:LINE: cell ID: FIELD: message`; a stack trace is printed only for a bug in backfill itself.
 */
import { Command, CommanderError, Option } from 'commander';
import { formatIssue } from '../core/issues';
import { UserError } from '../core/types';
import { checkCommand } from './commands/checkCommand';
import { dryRunCommand } from './commands/dryRunCommand';
import { newCommand } from './commands/newCommand';
import { ExitCode } from './exitCodes';

const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  finished below the success threshold or with mismatches
  2  invalid input or usage
  3  halted and resumable
  4  refused by a safety gate`;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('backfill')
    .description(
      'Run backfill runbooks (.backfill notebooks) headless. Everything is a dry run unless asked otherwise.',
    )
    .version('0.1.0')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('new')
    .description('create a runbook from a template that walks plan, communicate, test, run, verify, document')
    .argument('<file>', 'runbook to create, e.g. runbooks/resend-orders.backfill')
    .option(
      '--name <name>',
      'runbook name (what production runs are confirmed with); default: from the file name',
    )
    .option('--title <title>', 'title of the runbook')
    .option('--owner <owner>', 'owner; default: the current user')
    .option('--force', 'replace an existing file')
    .action((file: string, options) => newCommand(file, options));

  program
    .command('check')
    .description('validate a runbook: header, every cell, references between cells')
    .argument('<file>', 'runbook file')
    .option('--json', 'print the result as JSON')
    .action((file: string, options) => setExitCode(checkCommand(file, options)));

  program
    .command('dry-run')
    .description('read and validate every record and show exactly what would be sent; sends nothing')
    .argument('<file>', 'runbook file')
    .option('--cell <id>', 'the dry-run or execute cell to dry-run (default: every dry-run cell)')
    .option(
      '--env <name>',
      'environment to render with (default: the runbook default, never production implicitly)',
    )
    .addOption(
      new Option('--var <name=value>', 'override an environment variable (repeatable)').argParser(collect),
    )
    .option('--json', 'print the report as JSON')
    .option('--no-progress', 'no progress line on the terminal')
    .action(async (file: string, options) => setExitCode(await dryRunCommand(file, options)));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are printed by commander itself and are not errors.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.invalid;
  }
  if (error instanceof UserError) {
    process.stderr.write(`backfill: ${error.message}\n`);
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return ExitCode.invalid;
  }
  process.stderr.write(
    `backfill: internal error: ${(error as Error)?.message ?? String(error)}\n` +
      'This is a bug in backfill; please report it with the command you ran.\n',
  );
  if (process.env.BACKFILL_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
  return ExitCode.internal;
}
