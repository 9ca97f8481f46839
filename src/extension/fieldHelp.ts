/**
 * Completions and hovers for the fields of runbook cells: which fields a cell kind (or a mapping such as
 * `throttle:`) takes, and what each means. The names match the strict schemas in
 * src/core/format/schemas.ts, which reject anything else; a source, action or check kind's fields come
 * from the kind's own descriptor.
 */
import * as vscode from 'vscode';
import { actionFieldHelp } from '../core/actions/actionKinds';
import { checkFieldHelp } from '../core/checks/checkKinds';
import { sourceFieldHelp } from '../core/sources/sourceKinds';
import { Disposable } from './disposable';
import { cellMeta, isRunbook } from './notebookDocument';
import { kindFieldsFor } from './kindFieldHelp';

type Fields = Readonly<Record<string, string>>;

/** `csv, jsonl, … or inline`: the registered kinds, as a family's `type` help lists them. */
const kindList = (help: Fields): string => (help.type ?? '').replace(/\.$/, '');

const TOP: Record<string, Fields> = {
  header: {
    title: 'Title of the runbook.',
    name: "The runbook's name: what a production run is confirmed with (lower-case, digits, `.`, `_`, `-`).",
    owner: 'Who runs the backfill.',
    environments: 'Named environments: `{ production?, description?, vars: { NAME: value } }`.',
    defaultEnvironment: 'The environment used when none is chosen (never a production one implicitly).',
    stakeholders: 'People to inform and ask: `{ name, role?, contact? }`.',
  },
  job: {
    description: 'What the job does, in words.',
    source: `Where records come from: \`type\` ${kindList(sourceFieldHelp)}, and the record \`key\`.`,
    action: `What is done with each record: \`type\` ${kindList(actionFieldHelp)}.`,
    throttle: 'Rate, concurrency, batch size, timeout and retries.',
    errorBudget:
      'When a run halts by itself: failure ratio over a window, consecutive failures, total failures.',
  },
  'dry-run': {
    description: 'What this dry run checks.',
    job: 'The id of the job cell to dry-run.',
    subset: 'Which records: `first`, `keys`, `keysFile`, `sample`, `range`, `exclude`.',
    throttle: 'Overrides of the job throttle (for the estimate).',
    preview: 'How many requests to render: `first`, `random`, `seed`.',
    successThreshold: 'Share of records that must be valid for the dry run to pass, e.g. 0.999.',
  },
  execute: {
    description: 'What this run does.',
    job: 'The id of the job cell to run.',
    subset: 'Which records: `first`, `keys`, `keysFile`, `sample`, `range`, `exclude`.',
    throttle: 'Overrides of the job throttle for this run.',
    successThreshold: 'Share of records that must succeed for the run to count as a success, e.g. 0.9999.',
    errorBudget: 'Overrides of the job error budget for this run.',
  },
  verify: {
    description: 'What this verification checks.',
    job: 'The id of the job cell whose records are checked.',
    subset: 'Which records to check.',
    throttle: 'Rate and concurrency of the checks.',
    check: `How each record's real end state is read (\`type\` ${kindList(checkFieldHelp)}) and what it must be.`,
  },
};

const NESTED: Record<string, Fields> = {
  // Each kind's fields are documented by the kind itself (src/core/{sources,actions,checks}).
  source: sourceFieldHelp,
  action: actionFieldHelp,
  check: checkFieldHelp,
  throttle: {
    rate: 'Records per second, never exceeded (default 10).',
    concurrency: 'Records in flight at once (default 4).',
    batchSize: 'Records per batch for batch commands (default 100).',
    timeoutMs: 'Timeout of one request or command (default 10000).',
    retries: 'Retries of a failed record, with backoff (default 3).',
    retryOn: 'Which failures are retried: 429, 5xx, timeout, connection.',
  },
  errorBudget: {
    maxFailureRatio: 'Failed share of the last `window` records above which the run halts (default 0.2).',
    window: 'Records the failure ratio is computed over (default 100).',
    maxConsecutiveFailures: 'Failures in a row that halt the run (default 50).',
    maxFailures: 'Total failures that halt the run.',
  },
  subset: {
    first: 'The first N valid records.',
    keys: 'These keys only.',
    keysFile: 'A file with one key per line.',
    sample: 'A seeded random sample: `count` or `percent`, `seed`.',
    range: 'Keys from `from` to `to`.',
    exclude: 'Keys to leave out.',
  },
  preview: {
    first: 'How many of the first records to render (default 3).',
    random: 'How many random records to render (default 3).',
    seed: 'Seed of the random draw.',
  },
};

export class FieldHelp extends Disposable implements vscode.CompletionItemProvider, vscode.HoverProvider {
  constructor() {
    super();
    const selector: vscode.DocumentSelector = { scheme: 'vscode-notebook-cell', language: 'yaml' };
    this._register(vscode.languages.registerCompletionItemProvider(selector, this));
    this._register(vscode.languages.registerHoverProvider(selector, this));
  }

  provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): vscode.CompletionItem[] {
    const before = document.lineAt(position.line).text.slice(0, position.character);
    const typing = /^(\s*)([A-Za-z]*)$/.exec(before);
    const fields = typing && this.fieldsAt(document, position.line, typing[1]!.length);
    if (!fields) return [];
    return Object.entries(fields).map(([name, doc]) => {
      const item = new vscode.CompletionItem(name, vscode.CompletionItemKind.Property);
      item.insertText = `${name}: `;
      item.documentation = new vscode.MarkdownString(doc);
      return item;
    });
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const line = document.lineAt(position.line).text;
    const key = /^(\s*)(?:-\s+)?([A-Za-z]+):/.exec(line);
    if (!key) return undefined;
    const start = line.indexOf(key[2]!, key[1]!.length);
    if (position.character < start || position.character > start + key[2]!.length) return undefined;
    const fields = this.fieldsAt(document, position.line, start);
    const doc = fields?.[key[2]!];
    return doc ? new vscode.Hover(new vscode.MarkdownString(`**${key[2]}** — ${doc}`)) : undefined;
  }

  /** The fields allowed at this indentation: the cell kind's at the top, else those of the parent key. */
  private fieldsAt(document: vscode.TextDocument, line: number, indent: number): Fields | undefined {
    const kind = this.kindOf(document);
    if (!kind) return undefined;
    if (indent === 0) return TOP[kind];
    for (let i = line - 1; i >= 0; i -= 1) {
      const text = document.lineAt(i).text;
      const parent = /^(\s*)([A-Za-z]+):\s*$/.exec(text);
      if (text.trim() === '' || (/^\s*/.exec(text)![0].length >= indent && !parent)) continue;
      if (parent && parent[1]!.length < indent) {
        const key = parent[2]!;
        return kindFieldsFor(key, this.typeUnder(document, i, indent)) ?? NESTED[key];
      }
      if (/^\s*/.exec(text)![0].length < indent) return undefined;
    }
    return undefined;
  }

  /** The `type:` among the fields of the mapping that starts at line `parent`, at this indentation. */
  private typeUnder(document: vscode.TextDocument, parent: number, indent: number): string | undefined {
    for (let i = parent + 1; i < document.lineCount; i += 1) {
      const text = document.lineAt(i).text;
      if (text.trim() === '') continue;
      const depth = /^\s*/.exec(text)![0].length;
      if (depth < indent) return undefined;
      const type = depth === indent ? /^\s*type:\s*["']?([A-Za-z0-9_-]+)/.exec(text) : null;
      if (type) return type[1];
    }
    return undefined;
  }

  private kindOf(document: vscode.TextDocument): string | undefined {
    for (const notebook of vscode.workspace.notebookDocuments) {
      if (!isRunbook(notebook)) continue;
      const cell = notebook.getCells().find((c) => c.document === document);
      if (cell) return cellMeta(cell)?.kind;
    }
    return undefined;
  }
}
