/**
 * Model references: where a checkpoint folder names its base model, and how a reference as
 * written (a hub id, a local path, a path relative to where the tool ran) becomes a location.
 */
import { existsSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { isJsonObject, parseTolerantJson } from '../formats/index.ts';

/** Files that name the base model, in order of trust, and the key that names it. */
const BASE_MODEL_SOURCES: readonly (readonly [string, string])[] = [
  ['adapter_config.json', 'base_model_name_or_path'],
  ['adapter_model/adapter_config.json', 'base_model_name_or_path'],
  ['config.json', '_name_or_path'],
];

/**
 * The base model a checkpoint folder names: PEFT's `adapter_config.json`
 * `base_model_name_or_path`, else `config.json`'s `_name_or_path`. Unreadable files are
 * reported through `onIssue` (with the file) and skipped.
 */
export async function readBaseModelRef(
  folder: string, files: readonly string[], onIssue: (file: string, message: string) => void,
): Promise<string | undefined> {
  for (const [name, key] of BASE_MODEL_SOURCES) {
    if (!files.includes(name)) continue;
    const file = join(folder, name);
    try {
      const parsed = parseTolerantJson(await readFile(file, 'utf8'), file);
      const value = isJsonObject(parsed) ? parsed[key] : undefined;
      if (typeof value === 'string' && value.trim() !== '') return value.trim();
    } catch (err) {
      onIssue(file, err instanceof Error ? err.message : String(err));
    }
  }
  return undefined;
}

/** The real path of `path` when it exists here, else undefined. */
export function existingRealPath(path: string): string | undefined {
  try {
    return existsSync(path) ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The location for a model reference: an absolute path that exists here becomes its real
 * path; a relative one that exists under one of `bases` (project root, the file's folder…)
 * becomes that real path; anything else (a hub id, a path on another machine) stays as written,
 * without a trailing separator.
 */
export function resolveModelRef(ref: string, bases: readonly string[]): string {
  const trimmed = ref.trim().replace(/[\\/]+$/, '') || ref.trim();
  if (isAbsolute(trimmed)) return existingRealPath(trimmed) ?? trimmed;
  for (const base of bases) {
    const found = existingRealPath(resolve(base, trimmed));
    if (found !== undefined) return found;
  }
  return trimmed;
}

/** True when `path` is `dir` or inside it. */
export function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}
