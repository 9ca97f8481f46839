/**
 * Every question the extension asks the user, behind one small interface: the window's modals, input
 * boxes and quick picks in use, and a scripted stand-in in the integration tests (see extension.ts),
 * which must be able to answer "no" to a production confirmation without a person at the keyboard.
 */
import * as vscode from 'vscode';
import { typedNumber, typedRangeProblem } from '../core/model/numericRanges';
import type { LedgerFormat } from './settings';

/** What a real run is about to do, shown before it starts. */
export interface RunConfirmation {
  runbook: string;
  /** The runbook's `name`: what a production run is confirmed with. */
  name: string;
  cell: string;
  environment: string;
  production: boolean;
  target: string;
  /** Records that would be sent (checked, for a verification); undefined when not counted beforehand. */
  records: number | undefined;
  /**
   * The records in the words of the run's plan line (core/run/plannedRecordsText.ts), when the core could
   * count them the runner's way: "1,980 of 2,000 (20 skipped: done by small-batch)".
   */
  recordsText?: string;
  /** A verification (it only reads): the modal's button says so. */
  verification?: boolean;
  rate: number;
  concurrency: number;
  estimatedSeconds: number | undefined;
  /**
   * Set for a re-send of some records only: `failed`, the failures of the cell's latest run (Retry Failed
   * Records); `unverified`, the records the job's latest verification found mismatched or missing.
   */
  only?: 'failed' | 'unverified';
}

export interface Choice {
  id: string;
  label: string;
  description?: string;
  detail?: string;
}

export interface Prompts {
  /** A modal with the run's figures; true to go ahead. */
  confirmRun(run: RunConfirmation): Promise<boolean>;
  /** Asks to type the runbook's name; resolves with what was typed, or undefined when dismissed. */
  typeRunbookName(name: string): Promise<string | undefined>;
  /** Asks for a secret's value (a password box); undefined when dismissed. */
  askSecret(name: string, environment: string): Promise<string | undefined>;
  pick(choices: Choice[], placeholder: string): Promise<string | undefined>;
  /** A positive number of records per second; undefined when dismissed. */
  askRate(current: number | undefined): Promise<number | undefined>;
  pickLedgerFormat(): Promise<LedgerFormat | undefined>;
  newRunbookLocation(suggested: vscode.Uri | undefined): Promise<vscode.Uri | undefined>;
  /** A warning before signing off an item someone else owns; true to sign anyway. */
  confirmSignOffFor(item: string, owner: string, signer: string): Promise<boolean>;
}

/** The real prompts: the window's modals, input boxes and quick picks. */
export class WindowPrompts implements Prompts {
  /**
   * The safe button is the default: the dialog focuses (and Enter presses) its first button, so Cancel
   * comes first and the run second; Escape is the close affordance, another cancel. A production run
   * looks different: an error dialog (red icon) whose message starts with PRODUCTION.
   */
  async confirmRun(run: RunConfirmation): Promise<boolean> {
    const action = confirmationAction(run);
    const what = run.verification
      ? 'Verify'
      : run.only === 'failed'
        ? 'Retry the failed records of'
        : run.only === 'unverified'
          ? 'Re-send the unverified records of'
          : 'Run';
    const message = run.production
      ? `⚠ PRODUCTION — ${what} cell "${run.cell}" of ${run.runbook} in ${run.environment}?`
      : `${what} cell "${run.cell}" of ${run.runbook} for real in ${run.environment || 'the default environment'}?`;
    const cancel: vscode.MessageItem = { title: 'Cancel' };
    const go: vscode.MessageItem = { title: action };
    const close: vscode.MessageItem = { title: 'Close', isCloseAffordance: true };
    const show = run.production ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    const answer = await show(message, { modal: true, detail: describeRun(run) }, cancel, go, close);
    return answer === go;
  }

  async typeRunbookName(name: string): Promise<string | undefined> {
    return vscode.window.showInputBox({
      title: 'Confirm a production run',
      prompt: `Type the runbook's name, ${name}, to start a production run`,
      placeHolder: name,
      ignoreFocusOut: true,
      validateInput: (value) =>
        value === name ? undefined : `Type exactly ${name} (the runbook's name) to confirm`,
    });
  }

  async askSecret(name: string, environment: string): Promise<string | undefined> {
    return vscode.window.showInputBox({
      title: `Secret ${name}`,
      prompt: `Value of \${secret:${name}} for environment ${environment || '(default)'}. Kept in VS Code's secret storage; never written to the runbook, the ledger or a log.`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value === '' ? 'A secret cannot be empty' : undefined),
    });
  }

  async pick(choices: Choice[], placeholder: string): Promise<string | undefined> {
    const items = choices.map((choice) => ({ ...choice, label: choice.label }));
    const picked = await vscode.window.showQuickPick(items, { placeHolder: placeholder });
    return picked?.id;
  }

  async askRate(current: number | undefined): Promise<number | undefined> {
    const value = await vscode.window.showInputBox({
      title: 'Change rate',
      prompt: 'New rate in records per second (applies within a second)',
      value: current === undefined ? '' : String(current),
      // The same range as the runbook's throttle.rate and `backfill control rate N`.
      validateInput: (text) => typedRangeProblem('rate', text),
    });
    return value === undefined ? undefined : typedNumber(value);
  }

  async pickLedgerFormat(): Promise<LedgerFormat | undefined> {
    const picked = await this.pick(
      [
        { id: 'csv', label: 'CSV', description: 'one row per failed record, with its reason' },
        { id: 'jsonl', label: 'JSON Lines', description: 'one JSON object per failed record' },
      ],
      'Format of the failed records',
    );
    return picked === 'csv' || picked === 'jsonl' ? picked : undefined;
  }

  async newRunbookLocation(suggested: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
    return vscode.window.showSaveDialog({
      title: 'New runbook',
      saveLabel: 'Create Runbook',
      filters: { 'Backfill runbooks': ['backfill'] },
      ...(suggested ? { defaultUri: suggested } : {}),
    });
  }

  /** Cancel first, as in confirmRun: Enter (the focused first button) does not sign someone else's item. */
  async confirmSignOffFor(item: string, owner: string, signer: string): Promise<boolean> {
    const cancel: vscode.MessageItem = { title: 'Cancel' };
    const sign: vscode.MessageItem = { title: `Sign as ${signer}` };
    const close: vscode.MessageItem = { title: 'Close', isCloseAffordance: true };
    const answer = await vscode.window.showWarningMessage(
      `"${item}" is owned by ${owner}, not ${signer}.`,
      { modal: true, detail: `A sign-off says ${owner}'s part is done. Sign it off as ${signer} anyway?` },
      cancel,
      sign,
      close,
    );
    return answer === sign;
  }
}

/** The prompts in use, which the integration tests can override one question at a time. */
export class SwitchablePrompts implements Prompts {
  private overrides: Partial<Prompts> = {};

  constructor(private readonly real: Prompts) {}

  /** Answers the given questions with `overrides` until the returned disposable is disposed. */
  override(overrides: Partial<Prompts>): vscode.Disposable {
    this.overrides = overrides;
    return { dispose: () => (this.overrides = {}) };
  }

  confirmRun(run: RunConfirmation): Promise<boolean> {
    return (this.overrides.confirmRun ?? this.real.confirmRun.bind(this.real))(run);
  }
  typeRunbookName(name: string): Promise<string | undefined> {
    return (this.overrides.typeRunbookName ?? this.real.typeRunbookName.bind(this.real))(name);
  }
  askSecret(name: string, environment: string): Promise<string | undefined> {
    return (this.overrides.askSecret ?? this.real.askSecret.bind(this.real))(name, environment);
  }
  pick(choices: Choice[], placeholder: string): Promise<string | undefined> {
    return (this.overrides.pick ?? this.real.pick.bind(this.real))(choices, placeholder);
  }
  askRate(current: number | undefined): Promise<number | undefined> {
    return (this.overrides.askRate ?? this.real.askRate.bind(this.real))(current);
  }
  pickLedgerFormat(): Promise<LedgerFormat | undefined> {
    return (this.overrides.pickLedgerFormat ?? this.real.pickLedgerFormat.bind(this.real))();
  }
  newRunbookLocation(suggested: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
    return (this.overrides.newRunbookLocation ?? this.real.newRunbookLocation.bind(this.real))(suggested);
  }
  confirmSignOffFor(item: string, owner: string, signer: string): Promise<boolean> {
    return (this.overrides.confirmSignOffFor ?? this.real.confirmSignOffFor.bind(this.real))(
      item,
      owner,
      signer,
    );
  }
}

/** The confirmation's button: named for what it starts (a verification only reads). */
export function confirmationAction(run: Pick<RunConfirmation, 'production' | 'verification'>): string {
  if (run.verification) return run.production ? 'Verify in Production' : 'Verify';
  return run.production ? 'Run in Production' : 'Execute';
}

const ONLY_NOTE = {
  all: '',
  failed: ' (at most; only the failed ones are sent)',
  unverified: ' (only those the latest verification found mismatched or missing)',
};

/** The figures of a run, as the confirmation shows them. */
export function describeRun(run: RunConfirmation): string {
  return [
    `Target: ${run.target}`,
    run.recordsText !== undefined
      ? `Records: ${run.recordsText}`
      : run.records === undefined
        ? 'Records: every record the cell selects'
        : `Records: ${run.records.toLocaleString('en-US')}${ONLY_NOTE[run.only ?? 'all']}`,
    `Rate: ${run.rate}/s · concurrency ${run.concurrency}`,
    ...(run.estimatedSeconds !== undefined
      ? [`Estimated duration: ${humanSeconds(run.estimatedSeconds)}`]
      : []),
    `Environment: ${run.environment || '(default)'}${run.production ? ' — PRODUCTION' : ''}`,
    '',
    'It runs in its own process: closing or reloading the window does not stop it. Stop it with the ' +
      "cell's stop button or Backfill: Stop; running it again resumes where it stopped.",
  ].join('\n');
}

export function humanSeconds(seconds: number): string {
  if (seconds < 1) return 'under a second';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
