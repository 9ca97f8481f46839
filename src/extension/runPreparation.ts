/**
 * What every run of a cell needs before the runner starts: the file on disk matching the editor (the
 * runner reads the file), a valid runbook, the chosen environment and the secrets it names.
 */
import type * as vscode from 'vscode';
import type { ResolvedEnvironment } from '../core/job/environment';
import type { Runbook } from '../core/format/runbook';
import { formatIssue } from '../core/model/issues';
import type { Redactor } from '../core/secrets/secrets';
import { UserError } from '../core/model/types';
import type { Environments } from './environments';
import { whoIsActing } from './identity';
import { definitionsDifferFromDisk, parseNotebook, runbookFile } from './notebookDocument';
import { redactorForRun, type RunbookSecrets } from './secrets';
import { saveBeforeRun } from './settings';

export interface PreparedRun {
  notebook: vscode.NotebookDocument;
  file: string;
  runbook: Runbook;
  text: string;
  environment: ResolvedEnvironment;
  secrets: Record<string, string>;
  redactor: Redactor;
  /** Who is acting (identity.ts): the runs' operator and the attempts' too. */
  operator: string;
}

/** Why a run cannot start, and what to do about it. */
export interface NotReady {
  title: string;
  message: string;
  next?: string;
}

export interface PreparationServices {
  environments: Environments;
  secrets: RunbookSecrets;
}

/** The cell a run is for, and the command that runs it from a terminal (for a message to copy). */
export interface RunIntent {
  cell: string;
  command: 'run' | 'dry-run';
}

export async function prepareRun(
  notebook: vscode.NotebookDocument,
  services: PreparationServices,
  intent: RunIntent,
): Promise<PreparedRun | NotReady> {
  const located = runbookFile(notebook);
  if ('reason' in located) return { title: 'Not saved', message: located.reason };
  if (definitionsDifferFromDisk(notebook)) {
    if (!saveBeforeRun()) {
      return {
        title: 'Unsaved changes',
        message: 'The runbook has unsaved changes to its cells, and runs read the file.',
        next: 'Save the runbook, then run the cell again (or turn on backfill.run.saveBeforeRun).',
      };
    }
    if (!(await notebook.save())) {
      return { title: 'Not saved', message: 'Saving the runbook failed, and runs read the file.' };
    }
  }
  const parsed = parseNotebook(notebook);
  if (!parsed.runbook) {
    const count = parsed.issues.length;
    return {
      title: 'Invalid runbook',
      message: `The runbook has ${count} problem${count === 1 ? '' : 's'}:\n${parsed.issues
        .slice(0, 10)
        .map(formatIssue)
        .join('\n')}`,
      next: 'Fix the problems underlined in the cells (they are also in the Problems view), then run again.',
    };
  }
  let environment: ResolvedEnvironment;
  try {
    environment = services.environments.resolve(notebook.uri, parsed.runbook.header);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return {
      title: 'No environment',
      message: error.message,
      next: 'Choose one with Backfill: Select Environment (the environment button in the notebook toolbar).',
    };
  }
  const ledger = parsed.runbook.header.environments[environment.name]?.ledger;
  if (ledger) {
    // A distributed run is started where its workers run (a terminal, a scheduler), never from the
    // editor; the editor attaches to it: the cell shows it live with its workers, and stop, pause and
    // rate reach every worker (fleetMonitor.ts).
    return {
      title: 'Ledger in PostgreSQL',
      message:
        `Environment ${environment.name} keeps its ledger in PostgreSQL: its runs are started from a terminal, ` +
        'not from the editor. Once a run is going, this notebook shows it live with its workers, and its ' +
        'stop, pause and rate controls reach every worker.',
      next:
        `Run it from a terminal: backfill ${intent.command} ${located.file} --cell ${intent.cell} --env ${environment.name}` +
        (intent.command === 'run'
          ? ` (add workers with backfill worker; backfill status --env ${environment.name} shows them).`
          : '.'),
    };
  }
  const secrets = await services.secrets.valuesFor(parsed.text, environment.name);
  return {
    notebook,
    file: located.file,
    runbook: parsed.runbook,
    text: parsed.text,
    environment,
    secrets,
    redactor: redactorForRun(parsed.text, secrets),
    operator: await whoIsActing(notebook),
  };
}

export function isNotReady(value: PreparedRun | NotReady): value is NotReady {
  return 'title' in value;
}
