/**
 * Test support: the few VS Code APIs the extension's connection layer and its views'
 * models use (events, settings, tree views, CodeLens and hover shapes), so they run under
 * plain Node against a real daemon. Nothing here draws. `useFakeVscode()` makes `import 'vscode'`
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

const disposable = (): { dispose(): void } => ({ dispose: () => undefined });
const noEvent = (): { dispose(): void } => disposable();

/** Workspace folders the code sees (file paths). Tests set them. */
export const folders: string[] = [];

/** `setContext` keys and other commands the code ran, in order, with their arguments. */
export const executed: unknown[][] = [];

export class Uri {
  readonly scheme: string;
  readonly fsPath: string;
  private constructor(scheme: string, fsPath: string) {
    this.scheme = scheme;
    this.fsPath = fsPath;
  }
  static file(path: string): Uri { return new Uri('file', path); }
  static joinPath(base: Uri, ...parts: string[]): Uri { return new Uri(base.scheme, [base.fsPath, ...parts].join('/')); }
  static from(parts: { scheme: string; path: string }): Uri { return new Uri(parts.scheme, parts.path); }
  get path(): string { return this.fsPath; }
  toString(): string { return `${this.scheme}://${this.fsPath}`; }
}

export const workspace = {
  getConfiguration(section: string) {
    return { get: <T>(key: string, fallback?: T): T | undefined => (settings.has(`${section}.${key}`) ? settings.get(`${section}.${key}`) as T : fallback) };
  },
  get workspaceFolders() {
    return folders.map((f, index) => ({ uri: Uri.file(f), name: f.split('/').pop() ?? f, index }));
  },
  getWorkspaceFolder(uri: Uri) {
    return this.workspaceFolders.find((f) => uri.fsPath === f.uri.fsPath || uri.fsPath.startsWith(`${f.uri.fsPath}/`));
  },
  createFileSystemWatcher() {
    return { onDidCreate: noEvent, onDidChange: noEvent, onDidDelete: noEvent, dispose: () => undefined };
  },
  onDidChangeWorkspaceFolders: noEvent,
  asRelativePath: (p: string) => p,
};

export const commands = {
  executeCommand(...args: unknown[]): Promise<undefined> {
    executed.push(args);
    return Promise.resolve(undefined);
  },
  registerCommand: () => disposable(),
};

export const languages = {
  registerCodeLensProvider: () => disposable(),
  registerHoverProvider: () => disposable(),
};

export const TreeItemCollapsibleState = { None: 0, Collapsed: 1, Expanded: 2 } as const;
type CollapsibleState = (typeof TreeItemCollapsibleState)[keyof typeof TreeItemCollapsibleState];

export class TreeItem {
  label: string;
  collapsibleState: CollapsibleState;
  id?: string;
  description?: string;
  tooltip?: unknown;
  iconPath?: unknown;
  contextValue?: string;
  command?: unknown;
  constructor(label: string, collapsibleState: CollapsibleState = TreeItemCollapsibleState.None) {
    this.label = label;
    this.collapsibleState = collapsibleState;
  }
}

export class ThemeIcon {
  readonly id: string;
  readonly color?: unknown;
  constructor(id: string, color?: unknown) {
    this.id = id;
    this.color = color;
  }
}

export class ThemeColor {
  readonly id: string;
  constructor(id: string) { this.id = id; }
}

export class Range {
  readonly start: { line: number; character: number };
  readonly end: { line: number; character: number };
  constructor(startLine: number, startChar: number, endLine: number, endChar: number) {
    this.start = { line: startLine, character: startChar };
    this.end = { line: endLine, character: endChar };
  }
}

export class CodeLens {
  readonly range: Range;
  readonly command?: { title: string; command: string; arguments?: unknown[] };
  constructor(range: Range, command?: { title: string; command: string; arguments?: unknown[] }) {
    this.range = range;
    this.command = command;
  }
}

export class MarkdownString {
  readonly value: string;
  isTrusted?: unknown;
  constructor(value = '') { this.value = value; }
}

export class FileDecoration {
  readonly badge?: string;
  readonly tooltip?: string;
  readonly color?: unknown;
  constructor(badge?: string, tooltip?: string, color?: unknown) {
    this.badge = badge;
    this.tooltip = tooltip;
    this.color = color;
  }
}

export class Hover {
  readonly contents: unknown;
  readonly range?: Range;
  constructor(contents: unknown, range?: Range) {
    this.contents = contents;
    this.range = range;
  }
}

export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 } as const;

export const ViewColumn = { Active: -1, Beside: -2, One: 1 } as const;

export const window = {
  /** A tree view that is always visible (the code asks it for nothing else here). */
  createTreeView() {
    return { visible: true, onDidChangeVisibility: noEvent, onDidChangeSelection: noEvent, onDidExpandElement: noEvent, onDidCollapseElement: noEvent, dispose: () => undefined, reveal: () => Promise.resolve() };
  },
  registerFileDecorationProvider: () => disposable(),
  withProgress<T>(_options: unknown, task: () => Promise<T>): Promise<T> {
    return task();
  },
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
