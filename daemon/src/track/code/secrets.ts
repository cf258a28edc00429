/**
 * What never leaves the working tree: files that look like secrets, and the values of
 * keel.yaml's `train.env`/`eval.env`. Code versions (the patch stored in keel.db) and the
 * code shipped to hosts both go through here, so one list decides for both.
 *
 * A file is a secret when any segment of its path matches a built-in pattern (`.env.local`,
 * `deploy/id_ed25519`, `.aws/credentials`), or when it matches one of the project's own
 * `secrets:` globs from keel.yaml. User globs follow .gitignore's habit: a glob without a `/`
 * matches a file or folder name at any depth; one with a `/` is relative to the folder that
 * holds keel.yaml; one that starts with `!` is an exception, the way to ship on purpose a
 * file the patterns catch (`!auth/credentials.py`).
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { compileGlob, globProblem, matchingAncestor, type CompiledGlob } from '../watch/glob.ts';

/** File and folder names Keel treats as secrets in every project. */
export const BUILT_IN_SECRET_PATTERNS: readonly string[] = [
  '.env', '.env.*', '*.pem', '*.key', '*.p12', 'id_rsa*', 'id_ed25519*', 'id_ecdsa*', 'id_dsa*',
  '*credentials*', '.netrc', '.pypirc',
];

/** What redacted text is replaced by, in patches and in the keel.yaml shipped to hosts. */
export const REDACTED = '[redacted]';

/** The file whose env values are redacted. */
export const PROJECT_FILE_NAME = 'keel.yaml';

/** The pattern that makes `path` a secret, or undefined. */
export type SecretMatcher = (path: string) => string | undefined;

/** Compiled on first use, not when the daemon bundle loads (every start would pay for it). */
let builtIns: CompiledGlob[] | undefined;

/**
 * A matcher for `/`-separated paths. `base` is where the project folder sits relative to the
 * paths' root ('' when they are relative to the project folder itself); user globs with a
 * `/` apply only below it.
 */
export function secretFileMatcher(userGlobs: readonly string[] = [], base = ''): SecretMatcher {
  const secrets = new GlobSet((builtIns ??= BUILT_IN_SECRET_PATTERNS.map((p) => compileGlob(p))));
  const exceptions = new GlobSet([]);
  for (const raw of userGlobs) {
    const glob = raw.trim();
    if (glob.startsWith('!')) exceptions.add(glob.slice(1));
    else secrets.add(glob);
  }
  const prefix = base === '' || base === '.' ? '' : `${base.replace(/\/+$/, '')}/`;
  return (path) => (exceptions.match(path, prefix) === undefined ? secrets.match(path, prefix) : undefined);
}

/** Globs by name (any path segment) and by path (below the project folder). */
class GlobSet {
  private readonly byName: CompiledGlob[];
  private readonly anchored: CompiledGlob[] = [];

  constructor(byName: readonly CompiledGlob[]) {
    this.byName = [...byName];
  }

  add(raw: string): void {
    const glob = raw.trim().replace(/\/+$/, '');
    if (glob === '') return;
    // An invalid glob is reported where keel.yaml is read (a diagnostic that stops tracking);
    // here it simply matches nothing.
    if (globProblem(glob) !== undefined) return;
    if (glob.includes('/')) this.anchored.push(compileGlob(glob.replace(/^\/+/, '')));
    else this.byName.push(compileGlob(glob));
  }

  /** The source of the glob that matches `path`, or undefined. */
  match(path: string, prefix: string): string | undefined {
    for (const segment of path.split('/')) {
      const hit = this.byName.find((g) => g.match(segment));
      if (hit) return hit.source;
    }
    if (this.anchored.length === 0 || !path.startsWith(prefix)) return undefined;
    const ancestor = matchingAncestor(this.anchored, path.slice(prefix.length));
    return ancestor === undefined ? undefined : this.anchored.find((g) => g.match(ancestor))?.source;
  }
}

/** True for a path whose file name is keel.yaml (a project file, at any depth). */
export function isProjectFile(path: string): boolean {
  return path === PROJECT_FILE_NAME || path.endsWith(`/${PROJECT_FILE_NAME}`);
}

/**
 * keel.yaml with every `train.env`/`eval.env` value replaced by `'[redacted]'` (names kept).
 * Lines are preserved one for one (a multi-line value leaves empty lines), so a patch
 * between two redacted versions has the same shape as one between the originals. Values
 * reached through YAML aliases and merge keys are redacted where they are written. A file
 * that does not parse has every value on every line redacted: its structure is unknown.
 */
export function redactKeelYaml(text: string): string {
  const doc = parseDocument(text, { version: '1.2', prettyErrors: false });
  if (doc.errors.length > 0) return redactEveryValue(text);
  const ranges: [number, number][] = [];
  const root = doc.contents;
  if (isMap(root)) {
    for (const job of ['train', 'eval']) {
      const jobNode = resolveAlias(doc, root.get(job, true));
      if (isMap(jobNode)) collectValueRanges(doc, jobNode.get('env', true), ranges, new Set());
    }
  }
  return replaceRanges(text, ranges);
}

function resolveAlias(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** Source ranges of every scalar value under `node` (map keys excluded). */
function collectValueRanges(doc: Document, node: unknown, ranges: [number, number][], seen: Set<unknown>): void {
  if (node === null || node === undefined || seen.has(node)) return;
  seen.add(node);
  if (isAlias(node)) {
    collectValueRanges(doc, node.resolve(doc), ranges, seen);
  } else if (isScalar(node)) {
    if (node.range && node.value !== null) ranges.push([node.range[0], node.range[1]]);
  } else if (isMap(node)) {
    for (const pair of node.items) collectValueRanges(doc, pair.value, ranges, seen);
  } else if (isSeq(node)) {
    for (const item of node.items) collectValueRanges(doc, item, ranges, seen);
  }
}

function replaceRanges(text: string, ranges: [number, number][]): string {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [start, end] of sorted) {
    if (start < at) continue; // nested in one already replaced
    const original = text.slice(start, end);
    out += text.slice(at, start) + `'${REDACTED}'` + '\n'.repeat(original.split('\n').length - 1);
    at = end;
  }
  return out + text.slice(at);
}

/** For a keel.yaml that does not parse: keep keys and comments, redact everything else. */
function redactEveryValue(text: string): string {
  return text.split('\n').map((line) => {
    if (/^\s*(#.*)?\r?$/.test(line)) return line;
    const keyed = /^(\s*(?:-\s+)?[^\s#:'"{[][^:#]*:)(\s+)\S/.exec(line);
    if (keyed) return `${keyed[1]}${keyed[2]}'${REDACTED}'`;
    if (/^\s*(?:-\s+)?[^\s#:'"{[][^:#]*:\s*$/.test(line)) return line;
    return `${/^\s*/.exec(line)?.[0] ?? ''}# ${REDACTED}`;
  }).join('\n');
}
