/**
 * The `backfill` command line: a thin adapter over src/core. It parses arguments, calls the core and
 * maps outcomes to exit codes (see exitCodes.ts). Located problems are printed one per line as
 * `FILE:LINE: cell ID: FIELD: message`; a stack trace is printed only for a bug in backfill itself.
 */
import { Command, CommanderError, Option } from 'commander';
import { formatIssue } from '../core/model/issues';
import { RefusedError, UserError } from '../core/model/types';
import { checkCommand } from './commands/checkCommand';
import { fleetControlCommand } from './commands/fleetControlCommand';
import { ledgerCommand } from './commands/ledgerCommand';
import { runCommand } from './commands/runCommand';
import { workerCommand } from './commands/workerCommand';
import { statusCommand } from './commands/statusCommand';
import { dryRunCommand } from './commands/dryRunCommand';
import { newCommand } from './commands/newCommand';
import { announceCommand } from './commands/announceCommand';
import { reportCommand } from './commands/reportCommand';
import { signCommand } from './commands/signCommand';
import { ExitCode } from './exitCodes';
import { keepStateIn, STATE_DIR_VARIABLE } from '../core/ledger/statePaths';
import { LEDGER_ENV_OPTION } from './ledgerPlace';
import { DEFAULT_RUN_WAIT_SECONDS } from '../core/fleet/workerStart';

const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  finished below the success threshold or with mismatches
  2  invalid input or usage
  3  halted and resumable
  4  refused by a safety gate`;

const STATE_DIR_HELP =
  "keep this host's state folder (status, control, caches: DIR/FILE.d) in DIR instead of beside the " +
  `runbook, for a runbook in a read-only folder; only with a ledger in PostgreSQL (env: ${STATE_DIR_VARIABLE})`;

const METRICS_PORT_HELP = 'serve Prometheus metrics on PORT/metrics, on 127.0.0.1 unless --metrics-host';
const METRICS_HOST_HELP =
  'the IP address --metrics-port listens on (default 127.0.0.1, this host only); 0.0.0.0 for every ' +
  'interface, so Prometheus can scrape it from other hosts (the metrics carry no secrets; firewall the ' +
  'port to the scraper)';

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
    .exitOverride()
    // Every command of this host finds the state folder where run and worker keep it: the option, else
    // the environment variable (which status and control read too), else beside the runbook.
    .hook('preAction', (_program, command) =>
      keepStateIn((command.opts() as { stateDir?: string }).stateDir ?? process.env[STATE_DIR_VARIABLE]),
    );

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
    .option(
      '--kind <kind>',
      'what the job does: http (requests to a service) or sql (UPDATE a PostgreSQL table)',
      'http',
    )
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
    .option('--no-write-result', "do not write the cell's result block into the runbook")
    .action(async (file: string, options) => setExitCode(await dryRunCommand(file, options)));

  program
    .command('run')
    .description(
      'run an execute cell (a dry run unless --execute, or --production --confirm NAME for a production ' +
        'environment) or a verify cell (it only reads; --production to read a production environment)',
    )
    .argument('<file>', 'runbook file')
    .requiredOption('--cell <id>', 'the execute or verify cell to run')
    .option('--env <name>', 'environment (default: the runbook default, never production implicitly)')
    .addOption(
      new Option('--var <name=value>', 'override an environment variable (repeatable)').argParser(collect),
    )
    .option('--execute', 'really send records (non-production environments)')
    .option('--production', 'really send records to a production environment (needs --confirm)')
    .option('--confirm <name>', "the runbook's name, typed to confirm a production run")
    .option('--restart', 'start over instead of resuming the halted or finished run of the cell')
    .option(
      '--only <failed|unverified>',
      'failed: re-run exactly the records that failed in the latest run of the cell; unverified: re-run ' +
        'the records the latest verification found mismatched or missing (execute cell), or re-check ' +
        'the records it did not verify (verify cell)',
    )
    .option(
      '--resend-delivered',
      'send again the records another execute cell of the runbook already delivered (by default they are ' +
        'skipped: "20 skipped: done by small-batch"); the cell\'s resend: delivered asks the same',
    )
    .option('--events <file>', 'append JSON Lines events (start, progress, errors, halt, finish) to a file')
    .option('--metrics-port <port>', METRICS_PORT_HELP)
    .option('--metrics-host <address>', METRICS_HOST_HELP)
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--detach', 'run in a background process; watch it with status, steer it with control')
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress line on the terminal')
    .option('--no-write-result', "do not write the cell's result block into the runbook at the end")
    .action(async (file: string, options) => setExitCode(await runCommand(file, options)));

  program
    .command('worker')
    .description(
      'join the live run of a cell whose ledger is in PostgreSQL (started with backfill run) and work on ' +
        'its chunks until none is left; any number of workers, on any host',
    )
    .argument('<file>', 'runbook file: the same runbook (and data) the run was started with')
    .requiredOption('--cell <id>', 'the cell whose live run to join')
    .option('--env <name>', 'environment (default: the runbook default)')
    .addOption(
      new Option('--var <name=value>', 'override an environment variable (repeatable)').argParser(collect),
    )
    .option('--events <file>', 'append JSON Lines events (start, progress, errors, halt, finish) to a file')
    .option('--metrics-port <port>', METRICS_PORT_HELP)
    .option('--metrics-host <address>', METRICS_HOST_HELP)
    .option(
      '--wait-for-run <seconds>',
      'how long to wait for the run of the cell to be created (backfill run) when it is not yet, ' +
        `default ${DEFAULT_RUN_WAIT_SECONDS}; the ledger's database is waited for up to its outageSeconds`,
    )
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress line on the terminal')
    .action(async (file: string, options) => setExitCode(await workerCommand(file, options)));

  program
    .command('control')
    .description('steer a running backfill: pause, resume, stop, rate N, concurrency N')
    .argument('<file>', 'runbook file')
    .argument('<action>', 'pause | resume | stop | rate | concurrency')
    .argument('[value]', 'the new rate (records per second) or concurrency')
    .option(
      '--env <name>',
      "whose run to steer: when the environment's ledger is in PostgreSQL, every worker of the run on " +
        'every host (default: the runbook default)',
    )
    .action(async (file: string, action: string, value: string | undefined, options: { env?: string }) =>
      setExitCode(await fleetControlCommand(file, action, value, options)),
    );

  program
    .command('status')
    .description('state of each cell: latest run, counts, and live rate, latency and ETA while running')
    .argument('<file>', 'runbook file')
    .option('--json', 'print the status as JSON')
    .option(...LEDGER_ENV_OPTION)
    .action(async (file: string, options) => setExitCode(await statusCommand(file, options)));

  program
    .command('ledger')
    .description("export per-record outcomes of each execute and verify cell's latest run")
    .argument('<file>', 'runbook file')
    .option('--cell <id>', 'only this cell')
    .option(
      '--status <status>',
      'only records with this status: succeeded, failed, rejected or pending; for verify cells verified, ' +
        'mismatch, missing, error (or unverified: all three)',
    )
    .option('--format <format>', 'csv or jsonl', 'csv')
    .option(...LEDGER_ENV_OPTION)
    .action(async (file: string, options) => setExitCode(await ledgerCommand(file, options)));

  program
    .command('report')
    .description(
      'write the post-run report: runs, charts, verification, interventions, timeline, steps to reproduce',
    )
    .argument('<file>', 'runbook file')
    .option('--format <format>', 'html (self-contained, prints well) or md', 'html')
    .option('--out <path>', 'where to write it (default: beside the runbook, NAME.report.html or .md)')
    .option(...LEDGER_ENV_OPTION)
    .action(async (file: string, options) => setExitCode(await reportCommand(file, options)));

  program
    .command('announce')
    .description('print a short message for stakeholders at the start or the end of the backfill')
    .argument('<file>', 'runbook file')
    .requiredOption(
      '--phase <phase>',
      'start (what, when, rate, how to halt, whom to call) or done (results)',
    )
    .option('--cell <id>', 'the execute cell to announce (default: the last one)')
    .option('--env <name>', 'environment it runs in (default: the runbook default)')
    .option('--when <text>', "when it runs, in words (default: now, or the running run's start)")
    .option('--report <path>', 'where the report is (default: the report beside the runbook, if written)')
    .action(async (file: string, options) => setExitCode(await announceCommand(file, options)));

  program
    .command('sign')
    .description(
      'sign a checklist item off, bound to the plan as it is now (a changed plan needs a new sign-off)',
    )
    .argument('<file>', 'runbook file')
    .requiredOption('--item <id>', 'the checklist item (its id, or the slug of its text)')
    .option('--checklist <id>', 'the checklist cell, when the item id is in more than one')
    .option(
      '--as <name>',
      'who signs (default: BACKFILL_OPERATOR, else git user.name or user.email, else the OS user)',
    )
    .option('--key <file>', 'sign with this SSH key (ssh-keygen -Y sign), e.g. ~/.ssh/id_ed25519')
    .option('--yes', 'sign an item someone else owns without asking')
    .action(async (file: string, options) => setExitCode(await signCommand(file, options)));

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
  if (error instanceof RefusedError) {
    process.stderr.write(`backfill: refused: ${error.message}\n`);
    return ExitCode.refused;
  }
  if (error instanceof UserError) {
    process.stderr.write(`backfill: ${error.message}\n`);
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return ExitCode.invalid;
  }
  const refused = refusedWrite(error);
  if (refused) {
    process.stderr.write(`backfill: ${refused}\n`);
    return ExitCode.invalid;
  }
  process.stderr.write(
    `backfill: internal error: ${(error as Error)?.message ?? String(error)}\n` +
      'This is a bug in backfill; please report it with the command you ran.\n',
  );
  if (process.env.BACKFILL_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
  return ExitCode.internal;
}

/** File-system answers that mean the machine refused an access, not that backfill is broken. */
const REFUSED_WRITES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (read-only or immutable)',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
};

/**
 * Says what to fix when the file system refused an access before anything was changed (a run's lock, a
 * dry run's ledger); a run already under way halts resumably on its own (exit 3) instead.
 */
function refusedWrite(error: unknown): string | undefined {
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException;
  const why = code === undefined ? undefined : REFUSED_WRITES[code];
  if (!why || !path) return undefined;
  // A state folder the worker cannot create beside a read-only runbook (a ConfigMap, ReadOnlyPaths=).
  const elsewhere = /\.d(\/|$)/.test(path)
    ? `; or keep the state folder in a writable one with --state-dir DIR or ${STATE_DIR_VARIABLE}=DIR ` +
      '(a ledger in PostgreSQL)'
    : '';
  return (
    `${path}: ${why} (${code}): check the permissions of the file and its folder, and that the file ` +
    `system is writable and has space, then run the same command again${elsewhere}`
  );
}
