/**
 * The verification output's "Re-send the N unverified records" button: the renderer posts a message
 * (media/renderer/verifyView.ts), and the re-send goes through the same questions as the command.
 */
import * as vscode from 'vscode';
import type { ResendUnverifiedMessage } from '../../media/renderer/payloads';
import { RENDERER_ID } from './checklists';
import { Disposable } from './disposable';

export class ResendUnverifiedButton extends Disposable {
  constructor(resend: (argument: { notebookUri: string; cell: string }) => Promise<void>) {
    super();
    const messaging = vscode.notebooks.createRendererMessaging(RENDERER_ID);
    this._register(
      messaging.onDidReceiveMessage(({ editor, message }) => {
        const m = message as Partial<ResendUnverifiedMessage> | undefined;
        if (m?.type !== 'resendUnverified' || typeof m.cell !== 'string') return;
        void resend({ notebookUri: editor.notebook.uri.toString(), cell: m.cell });
      }),
    );
  }
}
