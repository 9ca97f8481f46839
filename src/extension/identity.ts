/**
 * Who is acting in the editor — a sign-off's `by`, a run's or dry run's `operator` (handed to the runner
 * as BACKFILL_OPERATOR, which the runner's own rule puts first after `--as`), a refused or cancelled
 * attempt, a new runbook's owner. The editor reads what it knows and the core's one rule decides
 * (src/core/model/identity.ts): the `backfill.checklists.signOffAs` setting, else BACKFILL_OPERATOR,
 * else git's user.name (or user.email) in the runbook's folder, else the OS account.
 */
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { decideIdentity, OPERATOR_VARIABLE, type IdentitySources } from '../core/model/identity';
import { signOffAs } from './settings';

export async function whoIsActing(notebook: vscode.NotebookDocument): Promise<string> {
  const folder = notebook.uri.scheme === 'file' ? path.dirname(notebook.uri.fsPath) : undefined;
  return decideIdentity(await identitySources(folder));
}

/** Who is acting in `folder` (a new runbook's, before it exists as a notebook). */
export async function whoIsActingIn(folder: string | undefined): Promise<string> {
  return decideIdentity(await identitySources(folder));
}

/** What the editor knows: the setting, its environment, git in `folder` (without blocking), the OS. */
export async function identitySources(folder: string | undefined): Promise<IdentitySources> {
  const [gitName, gitEmail] = await Promise.all([
    gitConfig(folder, 'user.name'),
    gitConfig(folder, 'user.email'),
  ]);
  return {
    explicit: signOffAs(),
    operatorVariable: process.env[OPERATOR_VARIABLE],
    gitName,
    gitEmail,
    osUser: osUserName(),
  };
}

function gitConfig(cwd: string | undefined, key: string): Promise<string | undefined> {
  return new Promise((resolve) =>
    execFile('git', ['config', key], { cwd, timeout: 2000 }, (error, stdout) =>
      resolve(error ? undefined : stdout),
    ),
  );
}

function osUserName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined; // A uid with no passwd entry (some containers).
  }
}
