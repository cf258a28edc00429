/** Runs `fn` once, `ms` after the last `schedule()`: bursts of notifications cost one refresh. */
import type * as vscode from 'vscode';

export class Debouncer implements vscode.Disposable {
  protected timer: NodeJS.Timeout | undefined;
  private readonly ms: number;
  private readonly fn: () => void;

  constructor(ms: number, fn: () => void) {
    this.ms = ms;
    this.fn = fn;
  }

  schedule(): void {
    clearTimeout(this.timer);
    this.start();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  protected start(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fn();
    }, this.ms);
  }
}

/**
 * Runs `fn` once, `ms` after the first `schedule()` of a spell; later calls in that spell
 * join it. Unlike Debouncer it never starves: a steady stream still runs `fn` every `ms`.
 */
export class Coalescer extends Debouncer {
  override schedule(): void {
    if (!this.timer) this.start();
  }
}
