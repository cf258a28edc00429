/**
 * Virtual documents for runs' effective configs: `keel-config:/<runId>/<name>.yaml`, so VS
 * Code's own diff editor (with YAML highlighting from the extension) shows config diffs.
 */

/** The URI scheme of run config documents. */
export const CONFIG_SCHEME = 'keel-config';

/** The path of a run's config document: `/<runId>/<run name>.<yaml|json>`. */
export function configDocPath(runId: string, runName: string, format: 'yaml' | 'json' | null): string {
  const safe = runName.replace(/[^\w.-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || runId;
  return `/${encodeURIComponent(runId)}/${safe}.${format ?? 'yaml'}`;
}

/** The run id a config document path names, or undefined for a malformed path. */
export function runIdOfConfigPath(path: string): string | undefined {
  const first = path.split('/').filter((p) => p !== '')[0];
  if (!first) return undefined;
  try {
    return decodeURIComponent(first);
  } catch {
    return undefined;
  }
}

/**
 * The 0-based line where a flattened param (`optimizer.lr`, `learning_rate`) is set in a YAML
 * or JSON config, following nesting by indentation; undefined when it is not written there.
 */
export function lineOfParam(text: string, key: string): number | undefined {
  const parts = key.split('.');
  const lines = text.split(/\r?\n/);
  let from = 0;
  let minIndent = -1;
  let found: number | undefined;
  for (const part of parts) {
    const escaped = part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`^(\\s*)(?:-\\s+)?["']?${escaped}["']?\\s*:`);
    found = undefined;
    for (let i = from; i < lines.length; i++) {
      const m = re.exec(lines[i] ?? '');
      if (!m) continue;
      const indent = (m[1] ?? '').length;
      if (indent <= minIndent) continue;
      found = i;
      from = i + 1;
      minIndent = indent;
      break;
    }
    if (found === undefined) return undefined;
  }
  return found;
}
