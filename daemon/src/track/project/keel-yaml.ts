/**
 * The project file, `keel.yaml`: what to track in a folder and how to launch its runs.
 * Every problem comes back with the key path and the 1-based line and column, read from the
 * YAML nodes, so the editor can underline it; a bad key never hides the rest of the file.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Pair, type Scalar } from 'yaml';
import { didYouMean } from '../config/suggest.ts';
import { COMMAND_PLACEHOLDERS, findPlaceholders, isCommandPlaceholder } from './command-template.ts';
import { globProblem } from '../watch/glob.ts';

/** How to run one kind of job (`train` or `eval`). */
export interface JobCommand {
  /** Shell command; may use `{config}`, `{output_dir}`, `{run}`, `{checkpoint}`. */
  command: string;
  /** Shell command run before `command` in the same environment (installs, `source venv`). */
  setup?: string;
  /** Extra environment variables for both. */
  env?: Record<string, string>;
}

/** A parsed keel.yaml with defaults filled. Globs are relative to the folder holding keel.yaml. */
export interface KeelProject {
  name: string;
  /** Each match (a file or a folder) is one dataset. */
  datasets: string[];
  configs: string[];
  /** Run output folders, e.g. `outputs/*`. */
  outputs: string[];
  /** Eval result files. */
  evals: string[];
  train?: JobCommand;
  eval?: JobCommand;
  /** Matches that are never tracked. */
  ignore: string[];
  /**
   * The user's own secret-file globs (`secrets:`), on top of Keel's built-in list (`.env*`,
   * keys, credentials): matching files are never recorded in a code version's patch nor
   * shipped to a host.
   */
  secrets?: string[];
}

/** One problem in keel.yaml. */
export interface Diagnostic {
  message: string;
  /** Key path, e.g. `train.command` or `datasets[1]`; '' for the whole file. */
  path: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The file name given to {@link parseProjectFile}. */
  file: string;
}

/** The project as far as it could be read, and what is wrong with the file. */
export interface ProjectFileResult {
  project: KeelProject;
  warnings: Diagnostic[];
  errors: Diagnostic[];
}

/** `keel.yaml:3:5: message`, the form the editor and CLI print. */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  return `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}: ${diagnostic.message}`;
}

const GLOB_KEYS = ['datasets', 'configs', 'outputs', 'evals', 'ignore'] as const;
const PROJECT_KEYS = ['name', ...GLOB_KEYS, 'secrets', 'train', 'eval'];
const JOB_KEYS = ['command', 'setup', 'env'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses and checks a keel.yaml. Never throws for bad input: problems are in `errors`/`warnings`. */
export function parseProjectFile(text: string, fileName: string): ProjectFileResult {
  return new ProjectFileReader(text, fileName).read();
}

class ProjectFileReader {
  private readonly text: string;
  private readonly file: string;
  private readonly lineCounter = new LineCounter();
  private readonly doc: Document;
  private readonly warnings: Diagnostic[] = [];
  private readonly errors: Diagnostic[] = [];
  private readonly project: KeelProject = { name: '', datasets: [], configs: [], outputs: [], evals: [], ignore: [] };
  /** Empty values (`EMPTY:`) sit past the end of their line; errors about them point at their key instead. */
  private readonly keyOfEmpty = new Map<unknown, unknown>();

  constructor(text: string, file: string) {
    this.text = text;
    this.file = file;
    this.doc = parseDocument(text, { lineCounter: this.lineCounter, prettyErrors: false, version: '1.2' });
  }

  read(): ProjectFileResult {
    for (const problem of this.doc.errors) this.add(this.errors, this.topKeyAt(problem.pos[0]), problem.message, problem.pos[0]);
    for (const problem of this.doc.warnings) this.add(this.warnings, this.topKeyAt(problem.pos[0]), problem.message, problem.pos[0]);
    // After a syntax error the node tree is a guess; checking it would only add noise.
    if (this.errors.length > 0) return { project: this.project, warnings: this.warnings, errors: this.errors };
    visit(this.doc, {
      Pair: (_, pair) => {
        if (isNull(pair.value) && pair.value) this.keyOfEmpty.set(pair.value, pair.key);
      },
    });
    this.readRoot(this.doc.contents);
    return { project: this.project, warnings: this.warnings, errors: this.errors };
  }

  private readRoot(root: unknown): void {
    if (root === null || (isScalar(root) && root.value === null)) {
      this.error(undefined, 'name', 'keel.yaml is empty: it needs at least "name: <project name>"');
      return;
    }
    if (!isMap(root)) {
      this.error(root, '', 'keel.yaml must be a mapping of keys (name, datasets, configs, …) to values');
      return;
    }
    for (const pair of root.items) this.readRootKey(pair);
    if (!root.items.some((pair) => keyText(pair) === 'name')) this.error(undefined, 'name', 'name is required (e.g. "name: my-project")');
  }

  /** The top-level key whose entry holds `offset` ('' before the first), to name where a syntax error is. */
  private topKeyAt(offset: number): string {
    const root = this.doc.contents;
    if (!isMap(root)) return '';
    let found = '';
    for (const pair of root.items) {
      const start = rangeOf(pair.key)?.[0];
      if (start !== undefined && start <= offset) found = keyText(pair);
    }
    return found;
  }

  private readRootKey(pair: Pair): void {
    const key = keyText(pair);
    const value = pair.value ?? pair.key;
    if (key === 'name') this.readName(value);
    else if (key === 'train' || key === 'eval') this.readJob(key, value);
    else if (isGlobKey(key)) this.project[key] = this.readGlobs(key, value);
    else if (key === 'secrets') this.project.secrets = this.readGlobs(key, value);
    else this.warning(pair.key, key, `unknown key "${key}"${didYouMean(key, PROJECT_KEYS)}; Keel ignores it`);
  }

  private readName(node: unknown): void {
    const name = stringValue(node);
    if (name === undefined) this.error(node, 'name', isNull(node) ? 'name is empty' : 'name must be text (quote it if it looks like a number)');
    else if (name.trim() === '') this.error(node, 'name', 'name is empty');
    else this.project.name = name.trim();
  }

  private readGlobs(key: string, node: unknown): string[] {
    if (isNull(node)) return [];
    const single = stringValue(node);
    if (single !== undefined) {
      this.error(node, key, `${key} must be a list of globs: write it as "${key}:" followed by a line "  - ${single}"`);
      return [];
    }
    if (!isSeq(node)) {
      this.error(node, key, `${key} must be a list of globs`);
      return [];
    }
    const globs: string[] = [];
    node.items.forEach((item, index) => {
      const path = `${key}[${index}]`;
      const glob = stringValue(item);
      if (isAlias(item)) this.error(item, path, `"*${item.source}" is read as a YAML alias: quote globs that start with * ("${'*' + item.source}")`);
      else if (glob === undefined) this.error(item, path, `${path} must be a glob string`);
      else if (glob.trim() === '') this.error(item, path, `${path} is empty`);
      else this.checkGlob(item, path, glob.trim(), globs);
    });
    return globs;
  }

  /** A glob Keel cannot use (unbalanced braces, a brace bomb, too long) is an error at its own line; the others stay. */
  private checkGlob(item: unknown, path: string, glob: string, globs: string[]): void {
    const problem = globProblem(glob);
    if (problem === undefined) globs.push(glob);
    else this.error(item, path, `${path} "${glob.length > 80 ? `${glob.slice(0, 80)}…` : glob}" ${problem}`);
  }

  private readJob(key: 'train' | 'eval', node: unknown): void {
    if (isNull(node)) return;
    const inline = stringValue(node);
    if (inline !== undefined) {
      this.error(node, key, `${key} must be a mapping: write "${key}:" and then "  command: ${inline}" on the next line`);
      return;
    }
    if (!isMap(node)) {
      this.error(node, key, `${key} must be a mapping with a command`);
      return;
    }
    const job: Partial<JobCommand> = {};
    for (const pair of node.items) {
      const name = keyText(pair);
      const path = `${key}.${name}`;
      const value = pair.value ?? pair.key;
      if (name === 'command' || name === 'setup') {
        const command = this.readCommand(path, value);
        if (command !== undefined) job[name] = command;
      } else if (name === 'env') {
        job.env = this.readEnv(path, value);
      } else {
        this.warning(pair.key, path, `unknown key "${name}" in ${key}${didYouMean(name, JOB_KEYS)}; Keel ignores it`);
      }
    }
    if (job.command === undefined) {
      if (!node.items.some((pair) => keyText(pair) === 'command')) this.error(node, `${key}.command`, `${key}.command is required`);
      return;
    }
    this.project[key] = { ...job, command: job.command };
  }

  private readCommand(path: string, node: unknown): string | undefined {
    const command = stringValue(node);
    if (command === undefined || command.trim() === '') {
      this.error(node, path, `${path} must be a non-empty shell command (text)`);
      return undefined;
    }
    const allowed = COMMAND_PLACEHOLDERS.map((name) => `{${name}}`).join(', ');
    const seen = new Map<string, number>();
    for (const use of findPlaceholders(command)) {
      const nth = seen.get(use.name) ?? 0;
      seen.set(use.name, nth + 1);
      if (isCommandPlaceholder(use.name)) continue;
      const hint = didYouMean(use.name, COMMAND_PLACEHOLDERS).replace(/"(\w+)"/g, '"{$1}"');
      const offset = this.placeholderOffset(node, `{${use.name}}`, nth);
      this.error(node, path, `unknown placeholder {${use.name}} in ${path}${hint}; allowed: ${allowed} (write \${NAME} for a shell variable)`, offset);
    }
    return command;
  }

  private readEnv(path: string, node: unknown): Record<string, string> | undefined {
    if (isNull(node)) return undefined;
    if (!isMap(node)) {
      this.error(node, path, `${path} must be a mapping of variable names to values`);
      return undefined;
    }
    const env: Record<string, string> = {};
    for (const pair of node.items) {
      const name = keyText(pair);
      const varPath = `${path}.${name}`;
      const value = pair.value ?? pair.key;
      if (!ENV_NAME.test(name)) this.error(pair.key, varPath, `"${name}" is not a valid environment variable name`);
      else if (isNull(value)) this.error(value, varPath, `${varPath} has no value (write "" for an empty one)`);
      else if (isScalar(value) && ['string', 'number', 'boolean'].includes(typeof value.value)) env[name] = scalarText(value);
      else this.error(value, varPath, `${varPath} must be a single value`);
    }
    return env;
  }

  /** Source offset of the nth `{name}` inside a scalar, so the error points at the placeholder itself. */
  private placeholderOffset(node: unknown, needle: string, nth: number): number | undefined {
    const range = rangeOf(node);
    if (!range) return undefined;
    const source = this.text.slice(range[0], range[1]);
    let at = -1;
    for (let i = 0; i <= nth; i++) {
      at = source.indexOf(needle, at + 1);
      if (at < 0) return undefined;
    }
    return range[0] + at;
  }

  private error(node: unknown, path: string, message: string, offset?: number): void {
    this.add(this.errors, path, message, offset ?? rangeOf(this.keyOfEmpty.get(node) ?? node)?.[0]);
  }

  private warning(node: unknown, path: string, message: string): void {
    this.add(this.warnings, path, message, rangeOf(node)?.[0]);
  }

  private add(list: Diagnostic[], path: string, message: string, offset: number | undefined): void {
    const at = offset === undefined ? { line: 1, col: 1 } : this.lineCounter.linePos(offset);
    list.push({ message, path, line: at.line, column: at.col, file: this.file });
  }
}

function isGlobKey(key: string): key is (typeof GLOB_KEYS)[number] {
  return (GLOB_KEYS as readonly string[]).includes(key);
}

function keyText(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

function stringValue(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

/** A scalar as written (`0.10` stays `0.10`, not `0.1`): env values are text to the shell. */
function scalarText(node: Scalar): string {
  const value = node.value;
  if (typeof value === 'string') return value;
  if (typeof node.source === 'string') return node.source;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

function rangeOf(node: unknown): readonly [number, number, number] | undefined {
  if (isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)) return node.range ?? undefined;
  return undefined;
}
