/**
 * How a status bar item marks production in every theme. The warning background is the mark, but Dark
 * High Contrast defines no `statusBarItem.warningBackground` (nor an error one) and forces the item's
 * text to the status bar's white: the item would look like any other. There the mark is the text in the
 * theme's warning colour (`editorWarning.foreground`, which high contrast themes define), beside the
 * `$(warning) PRODUCTION` words every theme shows.
 */
import * as vscode from 'vscode';

export interface StatusColors {
  backgroundColor: vscode.ThemeColor | undefined;
  color: vscode.ThemeColor | undefined;
}

export function productionStatusColors(
  kind: vscode.ColorThemeKind = vscode.window.activeColorTheme.kind,
): StatusColors {
  if (kind === vscode.ColorThemeKind.HighContrast) {
    return { backgroundColor: undefined, color: new vscode.ThemeColor('editorWarning.foreground') };
  }
  return { backgroundColor: new vscode.ThemeColor('statusBarItem.warningBackground'), color: undefined };
}

/** The colours of an item that is not a production one. */
export const PLAIN_STATUS: StatusColors = { backgroundColor: undefined, color: undefined };
