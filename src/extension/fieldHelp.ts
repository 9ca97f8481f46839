/**
 * Completions and hovers for the fields of runbook cells: which fields a cell kind (or a mapping such as
 * `throttle:`) takes, and what each means (the texts are in cellFieldDocs.ts).
 */
import * as vscode from 'vscode';
import { CELL_FIELDS as TOP, NESTED_FIELDS as NESTED } from './cellFieldDocs';
import { Disposable } from './disposable';
import { cellMeta, isRunbook } from './notebookDocument';
import { kindFieldsFor } from './kindFieldHelp';

type Fields = Readonly<Record<string, string>>;

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
