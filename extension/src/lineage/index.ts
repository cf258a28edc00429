/**
 * Lineage features in the editor: the hover card on paths and record ids in any file, the
 * CodeLens on config files, and keel.yaml diagnostics. (`keel.showLineage` draws in the
 * compare panel, so compare/index.ts registers it.)
 */
import type * as vscode from 'vscode';
import type { KeelServices } from '../services.ts';
import { registerConfigLens } from './codelens.ts';
import { registerLineageHover } from './hover.ts';
import { registerProjectDiagnostics } from './project-diagnostics.ts';

/** Registers the lineage hover, the config CodeLens and the keel.yaml diagnostics. */
export function activateLineageFeatures(services: KeelServices): vscode.Disposable[] {
  return [
    ...registerLineageHover(services),
    ...registerConfigLens(services),
    ...registerProjectDiagnostics(services),
  ];
}
