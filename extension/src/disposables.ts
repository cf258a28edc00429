/**
 * The one disposable base: collect what you create with `register()`, drop it all with
 * `dispose()`. Disposing twice is harmless, and anything registered after disposal is
 * disposed at once (late async work cannot leak a listener).
 */
import type * as vscode from 'vscode';

export class Disposables implements vscode.Disposable {
  private readonly items: vscode.Disposable[] = [];
  private disposed = false;

  /** Keeps `item` until this is disposed; returns it for chaining. */
  register<T extends vscode.Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Last created, first disposed: later things may depend on earlier ones.
    for (const item of this.items.splice(0).reverse()) {
      try {
        item.dispose();
      } catch {
        /* one failing disposal must not keep the others alive */
      }
    }
  }
}

/** A disposable from a plain function (e.g. an unsubscribe returned by the client). */
export function toDisposable(fn: () => void): vscode.Disposable {
  let done = false;
  return { dispose: () => { if (!done) { done = true; fn(); } } };
}
