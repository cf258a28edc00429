/**
 * keel.yaml's keys for completion and hover, read from the JSON Schema the extension ships
 * (media/keel.schema.json, also contributed for the YAML extension's validation), and where
 * in the file the cursor is: a key at the top level, a key of `train:`/`eval:`, or inside a
 * command where `{placeholders}` go. Pure: the providers in keel-yaml-language.ts use it.
 */

/** One key a keel.yaml may have, as the schema describes it. */
export interface KeyDoc {
  key: string;
  description: string;
  /** What goes after the key when completed: a list, a block of job keys, or a value on the line. */
  shape: 'list' | 'block' | 'value';
  example?: string;
}

/** What completion and hover know. */
export interface KeelYamlDocs {
  root: KeyDoc[];
  job: KeyDoc[];
  placeholders: { name: string; description: string }[];
}

/** The `{…}` placeholders a command may use (the daemon's COMMAND_PLACEHOLDERS; a test keeps them equal). */
export const PLACEHOLDERS: KeelYamlDocs['placeholders'] = [
  { name: 'config', description: 'the run\'s config file, with its --set overrides applied' },
  { name: 'output_dir', description: 'the folder the run writes to' },
  { name: 'run', description: 'the run\'s id' },
  { name: 'checkpoint', description: 'the checkpoint to start from, or to evaluate' },
];

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

function keyDocs(properties: unknown): KeyDoc[] {
  if (!isObj(properties)) return [];
  return Object.entries(properties).flatMap(([key, p]) => {
    if (!isObj(p)) return [];
    const shape = p.type === 'array' ? 'list' : '$ref' in p || p.type === 'object' ? 'block' : 'value';
    // The first example, or a list example's first item (what a completed key starts with).
    const first: unknown = Array.isArray(p.examples) ? p.examples[0] : undefined;
    const item: unknown = Array.isArray(first) ? first[0] : first;
    const example = typeof item === 'string' ? item : undefined;
    return [{ key, description: typeof p.description === 'string' ? p.description : '', shape, ...(example ? { example } : {}) }];
  });
}

/** The docs in a parsed keel.schema.json; empty lists for a schema of another shape. */
export function readSchemaDocs(schema: unknown): KeelYamlDocs {
  const s = isObj(schema) ? schema : {};
  const job = isObj(s.definitions) && isObj(s.definitions.job) ? s.definitions.job.properties : undefined;
  return { root: keyDocs(s.properties), job: keyDocs(job), placeholders: PLACEHOLDERS };
}

/** Where the cursor is, for completion. */
export type CursorPlace =
  | { kind: 'rootKey' }
  | { kind: 'jobKey'; job: string }
  | { kind: 'placeholder' }
  | { kind: 'none' };

const indentOf = (line: string): number => line.length - line.trimStart().length;
const KEY = /^(\s*)([A-Za-z_][\w-]*)\s*:/;

/** The key whose block holds line `index` (the nearest line above it with less indentation). */
function parentKey(lines: readonly string[], index: number, indent: number): string | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (indentOf(line) < indent) return KEY.exec(line)?.[2];
  }
  return undefined;
}

/** What completion should offer at `character` of line `index`. */
export function cursorPlace(lines: readonly string[], index: number, character: number): CursorPlace {
  const line = lines[index] ?? '';
  const before = line.slice(0, character);
  if (before.trimStart().startsWith('#')) return { kind: 'none' };
  const key = KEY.exec(line);
  // After `command:`/`setup:`, an open `{` asks for a placeholder.
  if (key && before.length > key[0].length) {
    return ['command', 'setup'].includes(key[2] ?? '') && /\{\w*$/.test(before) ? { kind: 'placeholder' } : { kind: 'none' };
  }
  if (!/^\s*[\w-]*$/.test(before)) return { kind: 'none' };
  const indent = before.length - before.trimStart().length;
  if (indent === 0) return { kind: 'rootKey' };
  const parent = parentKey(lines, index, indent);
  return parent === 'train' || parent === 'eval' ? { kind: 'jobKey', job: parent } : { kind: 'none' };
}

/** An example as a YAML scalar in snippet syntax: quoted when YAML would misread it (`*…` is an alias), snippet characters escaped. */
function snippetValue(example: string | undefined): string {
  if (example === undefined) return '';
  const yaml = /^[*&!%@`'"#|>{[]/.test(example) ? JSON.stringify(example) : example;
  return yaml.replace(/[$}\\]/g, '\\$&');
}

/** The text a completed key inserts (VS Code snippet syntax). */
export function keySnippet(doc: KeyDoc, indent: string): string {
  if (doc.shape === 'list') return `${doc.key}:\n${indent}  - \${1:${snippetValue(doc.example)}}`;
  if (doc.shape === 'block') return doc.key === 'env' ? `${doc.key}:\n${indent}  \${1:NAME}: \${2:value}` : `${doc.key}:\n${indent}  command: \${1:${snippetValue(doc.example)}}`;
  return `${doc.key}: \${1:${snippetValue(doc.example)}}`;
}

/** The keys not yet in the block the cursor is in (top level or one job). */
export function missingKeys(lines: readonly string[], index: number, docs: readonly KeyDoc[]): KeyDoc[] {
  const indent = indentOf(lines[index] ?? '');
  const present = new Set<string>();
  for (const [i, line] of lines.entries()) {
    if (i === index) continue;
    const m = KEY.exec(line);
    if (m && (m[1] ?? '').length === indent && (indent === 0 || parentKey(lines, i, indent) === parentKey(lines, index, indent))) present.add(m[2] ?? '');
  }
  return docs.filter((d) => !present.has(d.key));
}

/** The doc of the key or placeholder under `character` of line `index`, for a hover. */
export function hoverDoc(docs: KeelYamlDocs, lines: readonly string[], index: number, character: number): { title: string; description: string } | undefined {
  const line = lines[index] ?? '';
  for (const m of line.matchAll(/\{(\w+)\}/g)) {
    const p = docs.placeholders.find((x) => x.name === m[1]);
    if (p && character >= m.index && character <= m.index + m[0].length) return { title: `{${p.name}}`, description: `Filled in by Keel: ${p.description}.` };
  }
  const key = KEY.exec(line);
  if (!key) return undefined;
  const start = (key[1] ?? '').length;
  const name = key[2] ?? '';
  if (character < start || character > start + name.length) return undefined;
  const indent = start;
  const parent = indent === 0 ? undefined : parentKey(lines, index, indent);
  const list = indent === 0 ? docs.root : parent === 'train' || parent === 'eval' ? docs.job : [];
  const doc = list.find((d) => d.key === name);
  return doc ? { title: parent ? `${parent}.${name}` : name, description: doc.description } : undefined;
}
