/**
 * Who is acting, one rule for everything the editor records — a sign-off's `by`, a run's or dry run's
 * `operator` (handed to the runner as BACKFILL_OPERATOR), a refused or cancelled attempt: the
 * `backfill.checklists.signOffAs` setting, else git's user.name for the runbook's folder, else the
 * runner's own default (BACKFILL_OPERATOR, else the OS user).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { defaultOperator } from '../core/dryrun/dryRun';
import { signOffAs } from './settings';

export async function whoIsActing(notebook: vscode.NotebookDocument): Promise<string> {
  const configured = signOffAs();
  if (configured) return configured;
  const cwd = notebook.uri.scheme === 'file' ? path.dirname(notebook.uri.fsPath) : undefined;
  const fromGit = await new Promise<string | undefined>((resolve) =>
    execFile('git', ['config', 'user.name'], { cwd, timeout: 2000 }, (error, stdout) =>
      resolve(error ? undefined : stdout.trim() || undefined),
    ),
  );
  return fromGit ?? defaultOperator();
}
