/**
 * The canonical manifest of a folder: one line per file, `<hex>  <size>  <path>\n`, sorted by
 * path. A folder's version hash is the hash of this text, so anyone can recompute it with
 * coreutils when no path needs escaping:
 *   find . -type f -printf '%P\n' | LC_ALL=C sort | while read -r p; do
 *     printf '%s  %s  %s\n' "$(sha256sum "$p" | cut -c1-64)" "$(stat -c %s "$p")" "$p"; done | sha256sum
 */
import { HASH_ALGO, hashBytes, isCurrentHash, parseHash } from './algorithm.ts';

/** One file of a hashed folder. */
export interface ManifestEntry {
  /** Relative to the folder, `/`-separated, never starting with `./`. */
  path: string;
  size: number;
  /** `'sha256:<hex>'` */
  hash: string;
}

/**
 * Orders paths by their UTF-8 bytes (what `LC_ALL=C sort` does). JavaScript's default string
 * order compares UTF-16 units, which differs for characters beyond U+FFFF.
 */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A UTF-16 surrogate: the one place where UTF-16 order and UTF-8 byte order part. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Sorts entries in manifest order (a new array). */
export function sortEntries<T extends { path: string }>(entries: readonly T[]): T[] {
  // Without surrogates (characters beyond U+FFFF), comparing UTF-16 units orders as UTF-8
  // bytes do: no byte buffer per path needed (the usual case, and a re-scan sorts every file).
  if (!entries.some((e) => SURROGATE.test(e.path))) return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const keyed = entries.map((entry) => ({ entry, key: Buffer.from(entry.path, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map((k) => k.entry);
}

/**
 * Escapes a path so each manifest line stays one line and the text stays unambiguous:
 * backslash, newline and carriage return become `\\`, `\n`, `\r`. Other characters (spaces,
 * quotes, `$()`, non-ASCII) are written as they are, in UTF-8.
 */
export function escapeManifestPath(path: string): string {
  return path.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
}

/** The canonical manifest text of a set of files (sorted here, whatever the input order). */
export function manifestText(entries: readonly ManifestEntry[]): string {
  let text = '';
  for (const entry of sortEntries(entries)) {
    const parsed = isCurrentHash(entry.hash) ? { hex: entry.hash.slice(HASH_ALGO.length + 1) } : parseHash(entry.hash);
    if (!parsed) throw new Error(`manifest entry ${JSON.stringify(entry.path)} has a malformed hash ${JSON.stringify(entry.hash)}`);
    text += `${parsed.hex}  ${entry.size}  ${escapeManifestPath(entry.path)}\n`;
  }
  return text;
}

/** The version hash of a folder: the hash of its manifest text. */
export function manifestHash(entries: readonly ManifestEntry[]): string {
  return hashBytes(manifestText(entries));
}
