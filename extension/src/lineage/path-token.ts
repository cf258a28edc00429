/**
 * Finds the path-like token under the cursor in one line of any file: a quoted string, a
 * bare path, `host:/path`, or a Keel record id. Pure and cheap (one line, a few regexes) so a
 * hover can call it on every mouse move; whether the token names anything is the daemon's call.
 */

/** What the cursor is on. */
export interface PathToken {
  /** The text to resolve, without quotes, `--flag=` prefixes or trailing punctuation. */
  text: string;
  /** Column range of `text` in the line (0-based, end exclusive), for the hover's range. */
  start: number;
  end: number;
  /** `id`: a record id such as `run_k3f9q2m7x1ab`; `remote`: `host:/path`; `path`: a local path. */
  kind: 'id' | 'remote' | 'path';
}

/** Record ids the daemon resolves directly (see daemon/src/store/ids.ts). */
const ID = /\b(?:run|ckpt|cfg|dsv|ds|evg|eval|code)_[a-z0-9]{12}\b/g;
/** A quoted string on the line (no escapes: paths rarely hold quotes). */
const QUOTED = /(["'`])([^"'`]*?)\1/g;
/** Characters a bare path is made of; anything else ends it (`${x}/y` stays whole, to be refused whole). */
const BARE_CHAR = /[^\s"'`()[\]<>,;|&]/;
/** `host:/path` or `host:~/path`, host as in ~/.ssh/config aliases. */
const REMOTE = /^[A-Za-z0-9][A-Za-z0-9._-]*:(?:\/(?!\/)|~\/)/;
/** Characters that mean a glob, an interpolation or an escape rather than one path. */
const NOT_A_PATH = /[*?$\\{}#!]|:\/\/|^\/\/|\/\/$/;
/**
 * A bare file name (no slash) must end in an extension of the files Keel tracks — data,
 * configs, weights, eval results — so `self.model.train` or `np.float32` is not a path.
 */
const FILE_NAME = /^\w[\w.+-]*\.(?:jsonl?|ya?ml|csv|tsv|parquet|arrow|txt|toml|safetensors|bin|pt|pth|ckpt|gguf|onnx|npz|npy|h5|model|msgpack|zst|gz)$/i;
/** Longest token worth asking about. */
const MAX_LENGTH = 1024;

/** The path-like token at `column` (0-based) of `line`, or undefined when there is none. */
export function pathTokenAt(line: string, column: number): PathToken | undefined {
  if (column < 0 || column > line.length || line.length > 20_000) return undefined;
  const id = idAt(line, column);
  if (id) return id;
  const raw = quotedAt(line, column) ?? bareAt(line, column);
  if (!raw) return undefined;
  const cleaned = clean(raw);
  if (!cleaned || column < cleaned.start || column > cleaned.end) return undefined;
  const kind = classify(cleaned.text);
  return kind ? { ...cleaned, kind } : undefined;
}

function idAt(line: string, column: number): PathToken | undefined {
  for (const m of line.matchAll(ID)) {
    const start = m.index;
    const end = start + m[0].length;
    if (column >= start && column <= end) return { text: m[0], start, end, kind: 'id' };
  }
  return undefined;
}

type Span = { text: string; start: number; end: number };

function quotedAt(line: string, column: number): Span | undefined {
  for (const m of line.matchAll(QUOTED)) {
    const open = m.index;
    const close = open + m[0].length - 1;
    if (column < open || column > close) continue;
    const content = m[2] ?? '';
    return { text: content, start: open + 1, end: open + 1 + content.length };
  }
  return undefined;
}

function bareAt(line: string, column: number): Span | undefined {
  const isPathChar = (i: number): boolean => i >= 0 && i < line.length && BARE_CHAR.test(line.charAt(i));
  // The cursor may sit just after the token's last character.
  const at = isPathChar(column) ? column : isPathChar(column - 1) ? column - 1 : -1;
  if (at < 0) return undefined;
  let start = at;
  let end = at + 1;
  while (isPathChar(start - 1)) start--;
  while (isPathChar(end)) end++;
  return { text: line.slice(start, end), start, end };
}

/** Strips `--flag=` / `key=` prefixes, a YAML `key:` glued on the left, and trailing punctuation. */
function clean(span: Span): Span | undefined {
  let { text, start } = span;
  const eq = text.lastIndexOf('=');
  if (eq >= 0) {
    start += eq + 1;
    text = text.slice(eq + 1);
  }
  const lead = /^[:@]+/.exec(text)?.[0].length ?? 0;
  start += lead;
  text = text.slice(lead).replace(/[.,:;!?]+$/, '');
  text = text.trim();
  if (!text || text.length > MAX_LENGTH) return undefined;
  return { text, start, end: start + text.length };
}

function classify(text: string): PathToken['kind'] | undefined {
  if (NOT_A_PATH.test(text)) return undefined;
  if (!/[A-Za-z]/.test(text)) return undefined;
  if (REMOTE.test(text)) return 'remote';
  if (text.includes(':')) return undefined;
  if (text.includes('/')) return looksLikeSlashPath(text) ? 'path' : undefined;
  if (text.startsWith('~')) return undefined;
  return FILE_NAME.test(text) && !/^\d+(\.\d+)+$/.test(text) ? 'path' : undefined;
}

/** Rejects slash-separated text that is prose or arithmetic (`and/or`, `1/2`, `km/h`). */
function looksLikeSlashPath(text: string): boolean {
  if (/^(\.{1,2}|~)?\//.test(text)) return text.length > 1;
  const parts = text.split('/').filter((p) => p !== '');
  if (parts.length < 2) return false;
  // A relative path with two short words and no dot is far more often prose (`and/or`, `km/h`).
  if (parts.length === 2 && !text.includes('.') && parts.every((p) => p.length <= 3)) return false;
  return true;
}
