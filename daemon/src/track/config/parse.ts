/**
 * Reads a training config file (Axolotl, torchtune or HF TrainingArguments; YAML or JSON) into
 * what Keel records: the resolved tree, flattened params and the lineage refs.
 *
 * YAML is read as YAML 1.2 (core schema) with the `yaml` package, so `learning_rate: 2e-5` is the
 * number 2e-5, as Python's trainers see it once they cast it (PyYAML's 1.1 reading gives a string).
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ErrorCode, RpcError } from '../../protocol/errors.ts';
import { detectFlavor } from './flavor.ts';
import { applyOverrides } from './overrides.ts';
import { flattenParamsCounted, MAX_PARAMS } from './flatten.ts';
import { resolveInterpolations, type LocateKey } from './interpolate.ts';
import { findJsonSyntaxError, lineColumnAt } from './json-syntax.ts';
import { extractRefs } from './refs.ts';
import type { ConfigFormat, ConfigIssue, TrainingConfig } from './types.ts';

/** Where and why a config file could not be parsed; sent to clients as `E_CONFIG_INVALID`. */
export interface ConfigInvalidDetails {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The parser's own words. */
  reason: string;
}

/** A config file that is not valid YAML/JSON. `code` is `E_CONFIG_INVALID`; `data` holds the details. */
export class ConfigInvalidError extends RpcError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly reason: string;

  constructor(details: ConfigInvalidDetails) {
    super(ErrorCode.ConfigInvalid, `${details.file}:${details.line}:${details.column}: ${details.reason}`, details);
    this.name = 'ConfigInvalidError';
    this.file = details.file;
    this.line = details.line;
    this.column = details.column;
    this.reason = details.reason;
  }
}

/** The format a file name implies: `.json` is JSON, everything else YAML. */
export function configFormatOf(fileName: string): ConfigFormat {
  return /\.json$/i.test(fileName) ? 'json' : 'yaml';
}

/** Nesting deeper than this is refused: real configs stay under 20 levels, and every later step walks the tree. */
export const MAX_CONFIG_DEPTH = 256;

/** yaml's own default: how far aliases may expand a document (see toData). */
const MAX_ALIAS_COUNT = 100;

/** Issues reported per config; more are counted in one last issue. */
const MAX_ISSUES = 100;

/** Options for {@link parseTrainingConfig}. */
export interface ParseConfigOptions {
  /** `key=value` overrides applied before interpolation, as `tune run … key=value` does (see `applyOverrides`). */
  overrides?: readonly string[];
  /** Keys an override may set although the file leaves them out. */
  knownKeys?: Iterable<string>;
}

/**
 * Parses a training config. Throws {@link ConfigInvalidError} for malformed YAML/JSON (and
 * `ConfigOverrideError` for bad overrides); every softer problem (an unresolved `${…}`, a
 * duplicate key, a top level that is not a mapping) is returned in `issues`.
 */
export function parseTrainingConfig(text: string, fileName: string, options: ParseConfigOptions = {}): TrainingConfig {
  try {
    return parseChecked(text, fileName, options);
  } catch (error) {
    // A stack overflow anywhere in the parsers: the document is nested too deeply to read.
    if (error instanceof RangeError) throw new ConfigInvalidError({ file: fileName, line: 1, column: 1, reason: `the config is nested too deeply to read (${error.message})` });
    throw error;
  }
}

function parseChecked(text: string, fileName: string, options: ParseConfigOptions): TrainingConfig {
  const format = configFormatOf(fileName);
  const source = format === 'json' ? readJson(text, fileName) : readYaml(text, fileName);
  checkDepth(source.data, fileName);
  const issues = [...source.issues];
  const raw = options.overrides?.length ? applyOverrides(source.data, options.overrides, options.knownKeys) : source.data;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    issues.push({ message: raw === null || raw === undefined ? 'the config is empty' : 'the config is not a mapping of keys to values', line: 1, column: 1 });
  }
  const flavor = detectFlavor(raw);
  // `${…}` is OmegaConf syntax: torchtune (and other OmegaConf/Hydra configs) resolve it;
  // Axolotl and HF scripts would take it literally, so their text is left alone.
  let data = raw;
  if (flavor === 'torchtune' || flavor === 'unknown') {
    const resolved = resolveInterpolations(raw, source.locate);
    data = resolved.data;
    issues.push(...resolved.issues);
  }
  const { params, total } = flattenParamsCounted(data, MAX_PARAMS);
  if (total > MAX_PARAMS) {
    issues.push({ message: `the config has ${total.toLocaleString('en-US')} values; Keel records the first ${MAX_PARAMS.toLocaleString('en-US')} as params and dropped ${(total - MAX_PARAMS).toLocaleString('en-US')}` });
  }
  return { format, data, flavor, params, refs: extractRefs(data, flavor), issues: capIssues(issues) };
}

/** Refuses a tree nested deeper than {@link MAX_CONFIG_DEPTH}, without recursion (JSON.parse reads 100,000 `[` happily). */
function checkDepth(data: unknown, file: string): void {
  // Deepest level each container was entered at: a shared subtree (YAML alias) is walked again only when reached deeper.
  const seen = new WeakMap<object, number>();
  const stack: [unknown, number][] = [[data, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_CONFIG_DEPTH) {
      throw new ConfigInvalidError({ file, line: 1, column: 1, reason: `the config is nested more than ${MAX_CONFIG_DEPTH} levels deep; Keel does not read configs nested that deeply` });
    }
    if ((seen.get(node) ?? -1) >= depth) continue;
    seen.set(node, depth);
    for (const child of Array.isArray(node) ? (node as unknown[]) : Object.values(node)) stack.push([child, depth + 1]);
  }
}

function capIssues(issues: ConfigIssue[]): ConfigIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  return [...issues.slice(0, MAX_ISSUES), { message: `${issues.length - MAX_ISSUES} more problems not listed` }];
}

interface SourceTree {
  data: unknown;
  issues: ConfigIssue[];
  locate: LocateKey;
}

function readYaml(text: string, file: string): SourceTree {
  const lineCounter = new LineCounter();
  // uniqueKeys off: PyYAML (which the training tools use) keeps the last of two equal keys, so
  // a duplicate is reported as an issue rather than refused.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, version: '1.2' });
  const error = doc.errors[0];
  if (error) {
    const at = lineCounter.linePos(error.pos[0]);
    throw new ConfigInvalidError({ file, line: at.line, column: at.col, reason: error.message });
  }
  const locate = locatorFor(doc, lineCounter);
  const issues: ConfigIssue[] = doc.warnings.map((warning) => {
    const at = lineCounter.linePos(warning.pos[0]);
    return { message: warning.message, line: at.line, column: at.col };
  });
  issues.push(...duplicateKeys(doc, lineCounter));
  return { data: toData(doc, lineCounter, file), issues, locate };
}

/** The document as plain values; an alias with no anchor (`- *.jsonl`) is a syntax error here. */
function toData(doc: Document, lineCounter: LineCounter, file: string): unknown {
  let badAlias: { source: string; start: number } | undefined;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) !== undefined) return undefined;
      badAlias = { source: alias.source, start: alias.range?.[0] ?? 0 };
      return visit.BREAK;
    },
  });
  if (badAlias) {
    const at = lineCounter.linePos(badAlias.start);
    const reason = `"*${badAlias.source}" is read as an alias to an anchor that does not exist; quote values that start with *`;
    throw new ConfigInvalidError({ file, line: at.line, column: at.col, reason });
  }
  try {
    // yaml counts every alias expansion against maxAliasCount, so a billion-laughs document
    // ("a: &a [x, x]", "b: &b [*a, *a]" …) is refused here before it is built.
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const reason = /alias count/i.test(message)
      ? `the YAML's aliases (*name) would expand it more than ${MAX_ALIAS_COUNT} times over; Keel does not expand configs that large (${message})`
      : message;
    throw new ConfigInvalidError({ file, line: 1, column: 1, reason });
  }
}

function readJson(text: string, file: string): SourceTree {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const found = findJsonSyntaxError(text);
    const offset = found?.offset ?? 0;
    const reason = found?.reason ?? (error instanceof Error ? error.message : String(error));
    const at = lineColumnAt(text, offset);
    throw new ConfigInvalidError({ file, line: at.line, column: at.column, reason });
  }
  // Positions are only needed for issues, which are rare: JSON is valid YAML, so the yaml
  // parser can find keys in it when asked.
  let located: LocateKey | undefined;
  const locate: LocateKey = (segments) => {
    if (!located) {
      const lineCounter = new LineCounter();
      located = locatorFor(parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false }), lineCounter);
    }
    return located(segments);
  };
  return { data, issues: [], locate };
}

function locatorFor(doc: Document, lineCounter: LineCounter): LocateKey {
  return (segments) => {
    const node: unknown = doc.getIn(segments.map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment)), true);
    const start = hasRange(node) ? node.range[0] : undefined;
    if (start === undefined) return undefined;
    const at = lineCounter.linePos(start);
    return { line: at.line, column: at.col };
  };
}

function hasRange(node: unknown): node is { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && 'range' in node && Array.isArray(node.range);
}

/** Keys written twice in one mapping, anywhere in the document. */
function duplicateKeys(doc: Document, lineCounter: LineCounter): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const visit = (node: unknown, path: string[]): void => {
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(key) && isScalar(pair.key) && pair.key.range) {
          const at = lineCounter.linePos(pair.key.range[0]);
          issues.push({ message: `"${[...path, key].join('.')}" is set twice; the last value is used`, path: [...path, key].join('.'), line: at.line, column: at.col });
        }
        seen.add(key);
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...path, String(index)]));
    }
  };
  visit(doc.contents, []);
  return issues;
}
