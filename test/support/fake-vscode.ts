/**
 * Test support: the few VS Code APIs the extension's connection layer uses, so it runs
 * under plain Node against a real daemon. `useFakeVscode()` makes `import 'vscode'`
 * resolve here (module.registerHooks); import the code under test dynamically after it.
 */
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  private disposed = false;
  readonly event = (listener: Listener<T>): { dispose(): void } => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(e: T): void {
    if (this.disposed) return;
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
  }
}

/** Settings the code reads, by full key (`keel.daemon.home`). Tests set them. */
export const settings = new Map<string, unknown>();

/** Messages the code showed, as `<kind>: <text>`. */
export const shown: string[] = [];

export const workspace = {
  getConfiguration(section: string) {
    return { get: <T>(key: string, fallback?: T): T | undefined => (settings.has(`${section}.${key}`) ? settings.get(`${section}.${key}`) as T : fallback) };
  },
};

export const window = {
  showWarningMessage(text: string): Promise<undefined> {
    shown.push(`warning: ${text}`);
    return Promise.resolve(undefined);
  },
  showErrorMessage(text: string): Promise<undefined> {
    shown.push(`error: ${text}`);
    return Promise.resolve(undefined);
  },
  showInformationMessage(text: string): Promise<undefined> {
    shown.push(`info: ${text}`);
    return Promise.resolve(undefined);
  },
};

/** A LogOutputChannel that keeps its lines. */
export class FakeLog {
  readonly lines: string[] = [];
  info(m: string): void { this.lines.push(`info ${m}`); }
  warn(m: string): void { this.lines.push(`warn ${m}`); }
  error(m: string): void { this.lines.push(`error ${m}`); }
  debug(m: string): void { this.lines.push(`debug ${m}`); }
  trace(m: string): void { this.lines.push(`trace ${m}`); }
  show(): void { /* nothing to show */ }
  dispose(): void { /* nothing to free */ }
}

let installed = false;

/** Routes `import 'vscode'` to this module, once per process. */
export function useFakeVscode(): void {
  if (installed) return;
  installed = true;
  const url = pathToFileURL(import.meta.filename).href;
  registerHooks({
    resolve: (specifier, context, next) => (specifier === 'vscode' ? { url, shortCircuit: true } : next(specifier, context)),
  });
}
