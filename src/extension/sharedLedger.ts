/**
 * Where a runbook's selected environment keeps its ledger, when that is a PostgreSQL database shared by
 * workers on many hosts: the core resolves the setting (core/ledger/ledgerPlace.ts) with the secrets the
 * editor knows — stored, or in its own environment — without asking. The URL lives in memory only.
 */
import type * as vscode from 'vscode';
import { ledgerPlaceOf } from '../core/ledger/ledgerPlace';
import type { PostgresLedgerPlace } from '../core/ledger/postgresLedger';
import { UserError } from '../core/model/types';
import { SecretResolver, type Redactor } from '../core/secrets/secrets';
import type { Environments } from './environments';
import { parseNotebook } from './notebookDocument';
import { redactorForRun, type RunbookSecrets } from './secrets';

export interface SharedLedger {
  place: PostgresLedgerPlace;
  environment: string;
  /** Redacts the runbook's secrets, the database URL's among them, from anything shown. */
  redactor: Redactor;
  /** The runbook's cell ids: a shared ledger can hold other runbooks' runs too. */
  cells: Set<string>;
}

/**
 * The shared ledger of the notebook's environment; undefined when the ledger is beside the runbook, or
 * when the environment or its URL's secret is not known (`reason` then says which, for a message).
 */
export async function sharedLedgerOf(
  notebook: vscode.NotebookDocument,
  environments: Environments,
  secrets: RunbookSecrets,
): Promise<SharedLedger | { reason: string } | undefined> {
  const { runbook, text } = parseNotebook(notebook);
  if (!runbook) return undefined;
  try {
    const environment = environments.resolve(notebook.uri, runbook.header);
    if (!runbook.header.environments[environment.name]?.ledger) return undefined;
    const values = await secrets.knownValuesFor(text, environment.name);
    const place = ledgerPlaceOf(runbook.header, environment, new SecretResolver(values));
    if (place.type !== 'postgres') return undefined;
    return {
      place: { url: place.url, name: place.name, ...(place.schema ? { schema: place.schema } : {}) },
      environment: environment.name,
      redactor: redactorForRun(text, values),
      cells: new Set(runbook.cells.map((cell) => cell.id).filter((id): id is string => !!id)),
    };
  } catch (error) {
    if (error instanceof UserError) return { reason: error.message };
    throw error;
  }
}
