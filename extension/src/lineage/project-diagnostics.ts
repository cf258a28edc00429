/**
 * keel.yaml problems as editor diagnostics: when a keel.yaml is opened or saved, the daemon
 * re-reads it (`projects/register`, idempotent) and its diagnostics mark the offending lines.
 */
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { PROJECT_FILE } from '../project/keel-yaml.ts';
import type { KeelServices } from '../services.ts';
import { placeDiagnostics } from './diagnostic-spots.ts';

function isProjectFile(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && basename(doc.uri.fsPath) === PROJECT_FILE;
}

/** Registers the keel.yaml diagnostics. */
export function registerProjectDiagnostics(services: KeelServices): vscode.Disposable[] {
  const collection = vscode.languages.createDiagnosticCollection('keel');
  const check = async (doc: vscode.TextDocument): Promise<void> => {
    if (!isProjectFile(doc)) return;
    try {
      const client = await services.client();
      const { diagnostics } = await client.call('projects/register', { root: dirname(doc.uri.fsPath) });
      const lengths = Array.from({ length: doc.lineCount }, (_, i) => doc.lineAt(i).text.length);
      collection.set(doc.uri, placeDiagnostics(diagnostics, lengths).map((s) => {
        const severity = s.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
        const diagnostic = new vscode.Diagnostic(new vscode.Range(s.line, s.start, s.line, s.end), s.message, severity);
        diagnostic.source = 'keel';
        if (s.key) diagnostic.code = s.key;
        return diagnostic;
      }));
    } catch (err) {
      services.log.warn(`checking ${doc.uri.fsPath} failed: ${(err as Error).message}`);
    }
  };
  const run = (doc: vscode.TextDocument): void => void check(doc);
  // Documents already open when the extension activated (keel.yaml restored in an editor).
  for (const doc of vscode.workspace.textDocuments) run(doc);
  return [
    collection,
    vscode.workspace.onDidOpenTextDocument(run),
    vscode.workspace.onDidSaveTextDocument(run),
    vscode.workspace.onDidDeleteFiles((e) => e.files.forEach((f) => collection.delete(f))),
  ];
}
