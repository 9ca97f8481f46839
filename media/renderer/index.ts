/**
 * The Backfill notebook renderer (`backfill-renderer`): dry-run previews, live progress, verification
 * results and checklists. VS Code loads the built dist/renderer.js into the notebook's output webview.
 *
 * When the extension replaces an output's items, VS Code calls renderOutputItem again with the same
 * element; the view already in it is updated in place instead of being rebuilt.
 */
import type { ActivationFunction, OutputItem, RendererContext } from 'vscode-notebook-renderer';
import { ChecklistView } from './checklistView';
import { el } from './dom';
import { DryRunView } from './dryRunView';
import { MIME, parsePayload, type BackfillMime, type ParsedPayload } from './payloads';
import { ProgressView } from './progressView';
import styles from './styles.css' with { type: 'text' };
import { VerifyView } from './verifyView';

interface View {
  readonly root: HTMLElement;
  update(payload: ParsedPayload['payload']): void;
}

interface Mounted {
  mime: string;
  view: View;
}

const STYLE_ID = 'backfill-renderer-styles';

export const activate: ActivationFunction = (context) => {
  injectStyles();
  const mounted = new WeakMap<HTMLElement, Mounted>();
  return {
    renderOutputItem(item: OutputItem, element: HTMLElement): void {
      const parsed = readPayload(item);
      if ('error' in parsed) {
        mounted.delete(element);
        element.replaceChildren(errorView(parsed.error));
        return;
      }
      let current = mounted.get(element);
      if (!current || current.mime !== parsed.mime || !element.contains(current.view.root)) {
        current = { mime: parsed.mime, view: createView(parsed.mime, context) };
        mounted.set(element, current);
        element.replaceChildren(current.view.root);
      }
      try {
        current.view.update(parsed.payload);
      } catch (error) {
        // A payload the view did not expect must not leave a half-drawn view or break other outputs.
        mounted.delete(element);
        element.replaceChildren(errorView(error instanceof Error ? error.message : String(error)));
      }
    },
    // Views hold no timers or global listeners; their elements go with the output.
    disposeOutputItem(): void {},
  };
};

function createView(mime: BackfillMime, context: RendererContext<unknown>): View {
  switch (mime) {
    case MIME.dryRun:
      return new DryRunView() as View;
    case MIME.progress:
      return new ProgressView() as View;
    case MIME.verify:
      return new VerifyView(context) as View;
    case MIME.checklist:
      return new ChecklistView(context) as View;
  }
}

function readPayload(item: OutputItem): ParsedPayload | { error: string } {
  let value: unknown;
  try {
    value = item.json();
  } catch {
    return { error: `the output is not valid JSON (${item.mime})` };
  }
  return parsePayload(item.mime, value);
}

function errorView(message: string): HTMLElement {
  const view = el('div', 'bf bf-render-error');
  view.append(
    el('strong', undefined, 'Backfill output could not be shown: '),
    document.createTextNode(message),
  );
  return view;
}

function injectStyles(): void {
  if (document.getElementById(STYLE_ID)) return;
  const style = el('style');
  style.id = STYLE_ID;
  style.textContent = styles;
  document.head.append(style);
}
