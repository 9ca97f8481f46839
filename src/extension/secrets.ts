/**
 * Secrets of runbooks (`${secret:NAME}`), kept in VS Code's SecretStorage per environment (a staging
 * token is not the production one), asked for when missing, and handed to the runner only through its
 * process environment. Nothing here writes a secret anywhere else, and everything the extension shows
 * from a run goes through `redactor()` first.
 */
import type * as vscode from 'vscode';
import { redactorFor, secretNamesIn } from '../core/report/knownSecrets';
import type { Redactor } from '../core/secrets/secrets';
import type { Prompts } from './prompts';

export class RunbookSecrets {
  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly prompts: Prompts,
  ) {}

  /**
   * The values of every secret the runbook text names, for `environment`: from SecretStorage, else from
   * the editor's own environment (as on the command line), else asked for and stored. A secret the user
   * declines to give is left out (a dry run then says it is missing; a real run refuses).
   */
  async valuesFor(runbookText: string, environment: string): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const name of secretNamesIn(runbookText)) {
      const key = storageKey(environment, name);
      let value = (await this.storage.get(key)) ?? process.env[name];
      if (!value) {
        value = await this.prompts.askSecret(name, environment);
        if (value) await this.storage.store(key, value);
      }
      if (value) values[name] = value;
    }
    return values;
  }

  /**
   * The values of the secrets the runbook names that are known without asking: stored, or in the
   * editor's environment. For following a run on opening a runbook, which must not pop up a question.
   */
  async knownValuesFor(runbookText: string, environment: string): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const name of secretNamesIn(runbookText)) {
      const value = (await this.storage.get(storageKey(environment, name))) ?? process.env[name];
      if (value) values[name] = value;
    }
    return values;
  }

  /** Forgets a stored secret (asked again next time). */
  forget(environment: string, name: string): Thenable<void> {
    return this.storage.delete(storageKey(environment, name));
  }
}

/** Redacts the runbook's secrets (and credential-looking variables) from anything shown. */
export function redactorForRun(runbookText: string, secrets: Record<string, string>): Redactor {
  return redactorFor(runbookText, secrets);
}

function storageKey(environment: string, name: string): string {
  return `backfill.secret/${environment || '(default)'}/${name}`;
}
