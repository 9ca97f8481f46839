/**
 * The environment each runbook runs in, chosen with Backfill: Select Environment and remembered per
 * runbook in the workspace state. Until one is chosen, the runbook's default applies — never a
 * production environment implicitly (src/core/job/environment.ts).
 */
import * as vscode from 'vscode';
import { resolveEnvironment, type ResolvedEnvironment } from '../core/job/environment';
import type { Header } from '../core/format/schemas';
import type { Prompts } from './prompts';

export class Environments {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly state: vscode.Memento,
    private readonly prompts: Prompts,
  ) {}

  /** The environment runs of this runbook use. Throws a UserError when none can be chosen implicitly. */
  resolve(runbook: vscode.Uri, header: Header): ResolvedEnvironment {
    const chosen = this.state.get<string>(key(runbook));
    const requested = chosen !== undefined && chosen in header.environments ? chosen : undefined;
    return resolveEnvironment(header, requested);
  }

  /** The name chosen for this runbook, if any. */
  chosen(runbook: vscode.Uri): string | undefined {
    return this.state.get<string>(key(runbook));
  }

  /** Picks an environment (from a quick pick unless `name` is given); false when nothing was chosen. */
  async select(runbook: vscode.Uri, header: Header, name?: string): Promise<boolean> {
    const names = Object.keys(header.environments);
    if (names.length === 0) {
      void vscode.window.showInformationMessage(
        'Backfill: this runbook declares no environments (add them under `environments:` in its header).',
      );
      return false;
    }
    const current = this.chosen(runbook);
    const picked =
      name ??
      (await this.prompts.pick(
        names.map((env) => {
          const spec = header.environments[env]!;
          return {
            id: env,
            label: spec.production ? `$(warning) ${env}` : env,
            description: [spec.production ? 'PRODUCTION' : '', env === current ? 'current' : '']
              .filter(Boolean)
              .join(' · '),
            ...(spec.description ? { detail: spec.description } : {}),
          };
        }),
        'Environment for runs of this runbook',
      ));
    if (picked === undefined) return false;
    if (!names.includes(picked))
      throw new Error(`unknown environment "${picked}": use one of ${names.join(', ')}`);
    await this.state.update(key(runbook), picked);
    this.changed.fire(runbook);
    return true;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function key(runbook: vscode.Uri): string {
  return `backfill.environment/${runbook.toString()}`;
}
