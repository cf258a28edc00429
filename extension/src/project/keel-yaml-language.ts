/**
 * Editing keel.yaml: completion of its keys (top level, and `train:`/`eval:`'s) and of the
 * `{placeholders}` in commands, and a hover on each key saying what it does — from the JSON
 * Schema in media/keel.schema.json. The daemon's diagnostics (lineage/project-diagnostics.ts)
 * do the validation, with line and column.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { KeelServices } from '../services.ts';
import { cursorPlace, hoverDoc, keySnippet, missingKeys, readSchemaDocs, type KeelYamlDocs } from './keel-yaml-schema.ts';

const SELECTOR: vscode.DocumentSelector = [{ scheme: 'file', pattern: '**/keel.yaml' }];

function linesOf(document: vscode.TextDocument): string[] {
  return Array.from({ length: document.lineCount }, (_, i) => document.lineAt(i).text);
}

class KeelYamlLanguage implements vscode.CompletionItemProvider, vscode.HoverProvider {
  private readonly docs: KeelYamlDocs;

  constructor(docs: KeelYamlDocs) {
    this.docs = docs;
  }

  provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): vscode.CompletionItem[] {
    const lines = linesOf(document);
    const place = cursorPlace(lines, position.line, position.character);
    if (place.kind === 'placeholder') {
      return this.docs.placeholders.map((p) => {
        const item = new vscode.CompletionItem(`{${p.name}}`, vscode.CompletionItemKind.Variable);
        item.detail = p.description;
        item.filterText = `{${p.name}`;
        const open = lines[position.line]?.lastIndexOf('{', position.character) ?? position.character;
        item.range = new vscode.Range(position.line, open, position.line, position.character);
        item.insertText = `{${p.name}}`;
        return item;
      });
    }
    if (place.kind === 'none') return [];
    const indent = (lines[position.line] ?? '').match(/^\s*/)?.[0] ?? '';
    const keys = missingKeys(lines, position.line, place.kind === 'rootKey' ? this.docs.root : this.docs.job);
    return keys.map((d) => {
      const item = new vscode.CompletionItem(d.key, vscode.CompletionItemKind.Property);
      item.detail = place.kind === 'jobKey' ? `${place.job}.${d.key}` : 'keel.yaml';
      item.documentation = new vscode.MarkdownString(d.description);
      item.insertText = new vscode.SnippetString(keySnippet(d, indent));
      return item;
    });
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const doc = hoverDoc(this.docs, linesOf(document), position.line, position.character);
    if (!doc) return undefined;
    const md = new vscode.MarkdownString(`**${doc.title}** (keel.yaml)\n\n${doc.description}`);
    return new vscode.Hover(md);
  }
}

/** Registers completion and hover for keel.yaml files. */
export function registerKeelYamlLanguage(services: KeelServices): vscode.Disposable[] {
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(vscode.Uri.joinPath(services.context.extensionUri, 'media', 'keel.schema.json').fsPath, 'utf8'));
  } catch (err) {
    services.log.warn(`keel.yaml completion is off: the schema could not be read (${(err as Error).message})`);
    return [];
  }
  const provider = new KeelYamlLanguage(readSchemaDocs(schema));
  return [
    vscode.languages.registerCompletionItemProvider(SELECTOR, provider, '{'),
    vscode.languages.registerHoverProvider(SELECTOR, provider),
  ];
}
