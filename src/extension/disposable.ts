import type * as vscode from 'vscode';

/**
 * Owns what it registers: disposing the owner disposes them, newest first. Anything registered after
 * disposal is disposed at once, so a late listener can never leak.
 */
export abstract class Disposable implements vscode.Disposable {
  private readonly owned: vscode.Disposable[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected _register<T extends vscode.Disposable>(disposable: T): T {
    if (this.disposed) disposable.dispose();
    else this.owned.push(disposable);
    return disposable;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const disposable of this.owned.reverse()) {
      try {
        disposable.dispose();
      } catch {
        // One failing disposal must not keep the others from running.
      }
    }
    this.owned.length = 0;
  }
}
