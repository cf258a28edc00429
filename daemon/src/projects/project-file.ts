/** Reads a project's keel.yaml into a name, the parsed config, and readable problems. */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';

export const PROJECT_FILE = 'keel.yaml';

export interface ProjectFileRead {
  name: string;
  config: unknown;
  errors: string[];
  warnings: string[];
}

export function readProjectFile(root: string): ProjectFileRead {
  const file = join(root, PROJECT_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { name: basename(root), config: undefined, errors: [`${file}: ${(err as Error).message}`], warnings: [] };
  }
  try {
    const data = parse(text) as unknown;
    const name = typeof data === 'object' && data !== null && typeof (data as { name?: unknown }).name === 'string'
      ? (data as { name: string }).name
      : basename(root);
    return { name, config: data, errors: [], warnings: [] };
  } catch (err) {
    return { name: basename(root), config: undefined, errors: [`${file}: ${(err as Error).message}`], warnings: [] };
  }
}
