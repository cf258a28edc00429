/** Reads a project's keel.yaml into a name, the validated project, and readable problems. */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatDiagnostic, parseProjectFile, type Diagnostic, type KeelProject } from '../track/project/keel-yaml.ts';
import type { Project } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';

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

/**
 * The project as stored: `train.env`/`eval.env` values are dropped (names kept), because
 * they may hold tokens; the daemon re-reads keel.yaml when it needs them.
 */
function withoutSecrets(project: KeelProject): KeelProject {
  const strip = (job: KeelProject['train']): KeelProject['train'] =>
    job && { ...job, ...(job.env ? { env: Object.fromEntries(Object.keys(job.env).map((k) => [k, '[not stored]'])) } : {}) };
  return { ...project, train: strip(project.train), eval: strip(project.eval) };
}

/** Reads `root`'s keel.yaml and records it (without env values) — the one way a project is stored. */
export function storeProjectFile(store: Store, root: string): { project: Project; created: boolean; read: ProjectFileRead } {
  const read = readProjectFile(root);
  const { project, created } = store.projects.upsert(root, read.name, read.project && withoutSecrets(read.project), read.errors);
  return { project, created, read };
}
