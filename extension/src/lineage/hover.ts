/**
 * Lineage on hover, in any file: the path or record id under the mouse, resolved through the
 * daemon, shown as a compact card. It must never slow typing: one regex pass over one line,
 * cached answers, a time box, and nothing at all when the daemon is not connected (a hover
 * never starts it).
 */
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { Disposables } from '../disposables.ts';
import type { KeelServices } from '../services.ts';
import { HoverCommands, renderHoverCard } from './hover-card.ts';
import { candidatesFor, LineageLookup } from './lookup.ts';
import type { LineageCard } from './lookup.ts';
import { pathTokenAt } from './path-token.ts';
import { RunStatusMemory } from '../runs/run-deltas.ts';

/** How long an answer is trusted; a run's status change and `projects` notifications clear it sooner. */
const CACHE_TTL_MS = 30_000;
/** A hover waits this long for the daemon, then shows nothing (the answer is cached for the next hover). */
const DEFAULT_TIME_BOX_MS = 300;
/** Longest a lookup may continue after its hover gave up. */
const BACKGROUND_TIMEOUT_MS = 5_000;

/** The card as a trusted MarkdownString whose links may run only Keel's card commands. */
export function cardMarkdown(card: LineageCard): vscode.MarkdownString {
  const md = new vscode.MarkdownString(renderHoverCard(card.node, card.graph, card.warnings));
  md.isTrusted = { enabledCommands: [...HoverCommands] };
  return md;
}

export class LineageHoverProvider extends Disposables implements vscode.HoverProvider {
  private readonly services: KeelServices;
  readonly lookup = new LineageLookup({ ttlMs: CACHE_TTL_MS, backgroundTimeoutMs: BACKGROUND_TIMEOUT_MS });

  constructor(services: KeelServices) {
    super();
    this.services = services;
    const forget = (): void => this.lookup.clear();
    // A card shows records and links: a run's new points change neither (the TTL covers checkpoints it adds).
    const statuses = new RunStatusMemory();
    this.register(services.onNotification('runs', (n) => { if (statuses.classify(n) !== 'row') forget(); }));
    this.register(services.onNotification('projects', forget));
    this.register(services.onDidConnect(forget));
  }

  async provideHover(document: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const client = this.services.connected;
    if (!client || !vscode.workspace.getConfiguration('keel.hover', document).get<boolean>('enabled', true)) return undefined;
    const line = document.lineAt(position.line).text;
    const found = pathTokenAt(line, position.character);
    if (!found) return undefined;
    const fileDir = document.uri.scheme === 'file' ? dirname(document.uri.fsPath) : undefined;
    const folder = vscode.workspace.getWorkspaceFolder(document.uri) ?? vscode.workspace.workspaceFolders?.[0];
    const candidates = await candidatesFor(found, fileDir, folder?.uri.fsPath);
    if (candidates.length === 0 || token.isCancellationRequested) return undefined;
    const timeBox = vscode.workspace.getConfiguration('keel.hover').get<number>('timeoutMs', DEFAULT_TIME_BOX_MS);
    const card = await this.lookup.lookup(client, candidates, timeBox);
    if (!card || token.isCancellationRequested) return undefined;
    const range = new vscode.Range(position.line, found.start, position.line, found.end);
    return new vscode.Hover(cardMarkdown(card), range);
  }
}

/** Registers the hover for files and untitled documents of every language. */
export function registerLineageHover(services: KeelServices): vscode.Disposable[] {
  const provider = new LineageHoverProvider(services);
  return [provider, vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }], provider)];
}
