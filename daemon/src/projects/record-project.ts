/**
 * Reads a project's keel.yaml into a name, the validated project, and readable problems.
 *
 * keel.yaml is opened through track/input-file.ts: a FIFO, a device (`keel.yaml -> /dev/zero`)
 * or a file over {@link InputLimits.projectFile} becomes a project error naming the file, what
 * it is and the limit, instead of a hung or exhausted daemon.
 */
import { basename, join } from 'node:path';
import { formatDiagnostic, parseProjectFile, type Diagnostic, type KeelProject, type ProjectFileResult } from '../track/project/keel-yaml.ts';
import { InputLimits, readInputText, readInputTextSync } from '../track/input-file.ts';
import type { Project } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';
import { defaultParsePool } from '../work/index.ts';

export const PROJECT_FILE = 'keel.yaml';

export interface ProjectFileRead {
  name: string;
  /**
   * The validated project; undefined when keel.yaml is unreadable or has errors other than
   * unusable globs (a glob with an error is left out and the rest of the project still counts).
   */
  project: KeelProject | undefined;
  errors: string[];
  warnings: string[];
  diagnostics: (Diagnostic & { severity: 'error' | 'warning' })[];
}

const READ_OPTIONS = { what: PROJECT_FILE, maxBytes: InputLimits.projectFile };

/**
 * True for an error about one glob of a `datasets`/`configs`/`outputs`/`evals` list (its
 * diagnostic path is `datasets[1]`): that glob is left out and the project is still tracked.
 * An `ignore` glob is not such an error: tracking without it would record what the user
 * wanted ignored.
 */
export function isGlobItemError(diagnosticPath: string): boolean {
  return /^(datasets|configs|outputs|evals)\[\d+\]$/.test(diagnosticPath);
}

/**
 * Parses keel.yaml text in the parse worker (daemon/src/work): a keel.yaml at the 256 KiB cap
 * takes `yaml` ~90 ms as a list of 10 000 globs and ~2 s as nested maps on the 2-core CI
 * machine, so the daemon never parses it on its event loop.
 */
export async function parseProjectFileAsync(text: string, file: string): Promise<ProjectFileResult> {
  return defaultParsePool().parseProjectFile(text, file);
}

function fromParsed(root: string, parsed: ProjectFileResult): ProjectFileRead {
  const fatal = parsed.errors.some((d) => !isGlobItemError(d.path));
  return {
    name: parsed.project.name || basename(root),
    project: fatal ? undefined : parsed.project,
    errors: parsed.errors.map(formatDiagnostic),
    warnings: parsed.warnings.map(formatDiagnostic),
    diagnostics: [
      ...parsed.errors.map((d) => ({ ...d, severity: 'error' as const })),
      ...parsed.warnings.map((d) => ({ ...d, severity: 'warning' as const })),
    ],
  };
}

/** keel.yaml could not be read (missing, a FIFO, a device, too large): one error for the whole file. */
function unreadable(root: string, file: string, err: unknown): ProjectFileRead {
  const message = err instanceof Error ? err.message : String(err);
  return {
    name: basename(root), project: undefined, errors: [message], warnings: [],
    diagnostics: [{ message, path: '', line: 1, column: 1, file, severity: 'error' }],
  };
}

/** Reads and checks `root`'s keel.yaml without blocking on it (the daemon's way). */
export async function readProjectFileAsync(root: string): Promise<ProjectFileRead> {
  const file = join(root, PROJECT_FILE);
  let text: string;
  try {
    text = await readInputText(file, READ_OPTIONS);
  } catch (err) {
    return unreadable(root, file, err);
  }
  return fromParsed(root, await parseProjectFileAsync(text, file));
}

/**
 * The synchronous form, for callers that cannot await yet (dispatch re-reads env values at
 * launch). It is as safe against FIFOs, devices and large files; only the parse runs inline.
 */
export function readProjectFile(root: string): ProjectFileRead {
  const file = join(root, PROJECT_FILE);
  let text: string;
  try {
    text = readInputTextSync(file, READ_OPTIONS);
  } catch (err) {
    return unreadable(root, file, err);
  }
  return fromParsed(root, parseProjectFile(text, file));
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
export async function storeProjectFile(store: Store, root: string): Promise<{ project: Project; created: boolean; read: ProjectFileRead }> {
  const read = await readProjectFileAsync(root);
  const { project, created } = store.projects.upsert(root, read.name, read.project && withoutSecrets(read.project), read.errors);
  return { project, created, read };
}
