/** Reads a project's keel.yaml into a name, the validated project, and readable problems. */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatDiagnostic, parseProjectFile, type Diagnostic, type KeelProject } from '../track/project/project-file.ts';

export const PROJECT_FILE = 'keel.yaml';

export interface ProjectFileRead {
  name: string;
  /** The validated project; undefined when keel.yaml is missing or has errors. */
  project: KeelProject | undefined;
  errors: string[];
  warnings: string[];
  diagnostics: (Diagnostic & { severity: 'error' | 'warning' })[];
}

export function readProjectFile(root: string): ProjectFileRead {
  const file = join(root, PROJECT_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { name: basename(root), project: undefined, errors: [`${file}: ${(err as Error).message}`], warnings: [], diagnostics: [] };
  }
  const parsed = parseProjectFile(text, file);
  const errors = parsed.errors.map(formatDiagnostic);
  return {
    name: parsed.project.name || basename(root),
    project: errors.length === 0 ? parsed.project : undefined,
    errors,
    warnings: parsed.warnings.map(formatDiagnostic),
    diagnostics: [
      ...parsed.errors.map((d) => ({ ...d, severity: 'error' as const })),
      ...parsed.warnings.map((d) => ({ ...d, severity: 'warning' as const })),
    ],
  };
}
