// The import boundaries of the design (../README.md, "Layout"), checked on resolved paths with
// allow-lists: a relative import is resolved against the importing file and must land in one
// of the folders its zone may use; a package import must be on the zone's list. Tests
// (`*.test.ts`, test/, bench/) are not production code and may import anything.
import { dirname, posix, relative, resolve, sep } from 'node:path';

const NODE = (s) => s.startsWith('node:');
const pkg = (...names) => (s) => names.some((n) => s === n || s.startsWith(`${n}/`));

const PROTOCOL = 'daemon/src/protocol/';
const CLIENT = 'daemon/src/client/';
const STORE = 'daemon/src/store/';

/**
 * Zones, most specific first. `folders`: where relative imports may land (repo-relative,
 * POSIX, trailing slash). `packages`: which bare specifiers are allowed.
 */
export const ZONES = [
  { name: 'daemon/src/protocol', prefix: PROTOCOL, folders: [PROTOCOL], packages: () => false,
    why: 'the protocol is the wire contract and imports nothing but its own files' },
  { name: 'daemon/src/client', prefix: CLIENT, folders: [PROTOCOL, CLIENT], packages: (s) => NODE(s) || pkg('ws')(s),
    why: 'the client (shared by the CLI and the extension) uses only the protocol, ws and Node' },
  { name: 'daemon/src/store', prefix: STORE, folders: ['daemon/src/'], packages: (s) => NODE(s) || pkg('better-sqlite3')(s),
    why: 'the store is daemon code, and the only module that touches better-sqlite3' },
  { name: 'daemon/src', prefix: 'daemon/src/', folders: ['daemon/src/'],
    packages: (s) => NODE(s) || pkg('ws', 'yaml', 'chokidar', 'simple-git', 'hash-wasm', 'picomatch', 'minimatch')(s),
    why: 'the daemon never imports vscode, and only daemon/src/store touches better-sqlite3' },
  { name: 'extension/src', prefix: 'extension/src/', folders: ['extension/src/', PROTOCOL, CLIENT], packages: (s) => s === 'vscode' || NODE(s) || pkg('yaml')(s),
    why: 'the extension is a thin client: the protocol and the client, never the store, chokidar, simple-git or a native module' },
  { name: 'webview/src', prefix: 'webview/src/', folders: ['webview/src/', PROTOCOL], packages: pkg('uplot', '@vscode-elements/elements'),
    why: 'the webview runs in a browser: only the protocol and browser libraries' },
];

function isTestFile(rel) {
  return rel.endsWith('.test.ts') || rel.startsWith('test/') || rel.startsWith('bench/');
}

/** The zone of a repo-relative file, or undefined when unrestricted. */
export function zoneOf(rel) {
  if (isTestFile(rel)) return undefined;
  return ZONES.find((z) => rel.startsWith(z.prefix));
}

/** Why `specifier` imported from repo-relative `fromRel` breaks a boundary, or undefined. */
export function boundaryViolation(root, fromRel, specifier) {
  const zone = zoneOf(fromRel);
  if (!zone) return undefined;
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const target = relative(root, resolve(root, dirname(fromRel), specifier)).split(sep).join(posix.sep);
    if (zone.folders.some((f) => target.startsWith(f))) return undefined;
    return `${fromRel} may not import ${target}: ${zone.why}`;
  }
  if (specifier.startsWith('#')) return `${fromRel}: package import aliases are not used here; import by relative path`;
  if (zone.packages(specifier)) return undefined;
  return `${fromRel} may not import the package "${specifier}": ${zone.why}`;
}

/** The ESLint rule. */
export const boundariesRule = {
  meta: { type: 'problem', schema: [], docs: { description: 'import boundaries between the daemon, protocol, client, store, extension and webview' } },
  create(context) {
    const root = context.cwd;
    const fromRel = relative(root, context.filename).split(sep).join(posix.sep);
    if (!zoneOf(fromRel)) return {};
    const check = (node) => {
      const source = node.source;
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const message = boundaryViolation(root, fromRel, source.value);
      if (message) context.report({ node: source, message });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export const boundariesPlugin = { rules: { boundaries: boundariesRule } };
