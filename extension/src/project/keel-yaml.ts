/**
 * What the extension reads from keel.yaml itself: only the `configs` globs (to offer configs
 * in the launch picker) and the name. The daemon owns validation; a broken file gives no
 * globs here and a diagnostic from the daemon.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const PROJECT_FILE = 'keel.yaml';

export interface KeelYamlSummary {
  name: string | null;
  configs: string[];
}

function strings(x: unknown): string[] {
  if (typeof x === 'string') return [x];
  return Array.isArray(x) ? x.filter((g): g is string => typeof g === 'string' && g.trim() !== '') : [];
}

/** Parses keel.yaml text; never throws. */
export function summarizeKeelYaml(text: string): KeelYamlSummary {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return { name: null, configs: [] };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { name: null, configs: [] };
  const d = doc as Record<string, unknown>;
  return { name: typeof d.name === 'string' ? d.name : null, configs: strings(d.configs) };
}

/** Reads `<root>/keel.yaml`; an unreadable file gives an empty summary. */
export function readKeelYaml(root: string): KeelYamlSummary {
  try {
    return summarizeKeelYaml(readFileSync(join(root, PROJECT_FILE), 'utf8'));
  } catch {
    return { name: null, configs: [] };
  }
}
