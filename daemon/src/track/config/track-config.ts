/**
 * Tracks a training config file: parsed with track/config, stored once by the hash of its
 * resolved content (so reformatting, comments and key order make no new config), its params
 * flattened for comparison, the path recorded, and a `references` edge to the latest version
 * of every tracked dataset the config reads.
 *
 * Base models are returned in `refs` only; registering them is the checkpoint side's job.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, RpcError, type ConfigRecord, type Dataset, type DatasetVersion } from '../../protocol/index.ts';
import { EdgeTypes, type Store } from '../../store/index.ts';
import { defaultParsePool, type ParsePool } from '../../work/parse-pool.ts';
import type { ConfigIssue, ConfigRefs, DatasetRef, TrainingConfig } from './types.ts';

/** What trackConfig needs. */
export interface TrackConfigDeps {
  store: Store;
  /** Where configs are parsed, off the event loop; default: the process's parse pool. */
  parser?: ParsePool;
  /**
   * Raise a warning event naming the file when it cannot be recorded (default true: a watched
   * config has nobody waiting for the error). `keel launch` passes false: its caller gets the error.
   */
  warnOnFailure?: boolean;
}

/** The project a config belongs to. */
export interface ConfigProject {
  id: string;
  root: string;
}

/** A dataset the config reads that Keel tracks: the edge config → version was recorded. */
export interface LinkedDataset {
  ref: DatasetRef;
  /** The local path the ref resolved to (a file inside a folder dataset links that folder). */
  absPath: string;
  dataset: Dataset;
  version: DatasetVersion;
}

/** A dataset ref with no tracked version behind it. */
export interface UnlinkedDataset {
  ref: DatasetRef;
  /** Set when the ref names a local file or folder that exists but is not tracked (yet). */
  localPath?: string;
}

/** What trackConfig recorded. */
export interface TrackedConfig {
  config: ConfigRecord;
  /** The config content was new (not just a new path or a re-read). */
  created: boolean;
  refs: ConfigRefs;
  /** Problems that did not stop the config from being recorded (unresolved `${…}`, duplicate keys). */
  issues: ConfigIssue[];
  linkedDatasets: LinkedDataset[];
  unlinkedDatasets: UnlinkedDataset[];
  /** The file's text as read, and its parse (so a caller never reads or parses it again). */
  text: string;
  parsed: TrainingConfig;
}

/**
 * Reads, parses and records the config at `absPath`. The file is read (at most
 * InputLimits.config, regular files only) and parsed in a parse worker. Throws E_CONFIG_INVALID
 * (with file, line and column in `data`) for malformed YAML/JSON, E_NOT_FOUND for a missing
 * file, E_INVALID_STATE for a file over a size, memory or time limit, E_IO otherwise; unless
 * `deps.warnOnFailure` is false, a failure also raises a warning event naming the file.
 * Idempotent: tracking an unchanged file again adds nothing.
 */
export async function trackConfig(deps: TrackConfigDeps, project: ConfigProject, absPath: string): Promise<TrackedConfig> {
  const abs = resolve(absPath);
  const { store } = deps;
  let file;
  try {
    file = await (deps.parser ?? defaultParsePool()).parseConfigFile(abs);
  } catch (err) {
    if (deps.warnOnFailure !== false) warnNotRecorded(store, abs, err);
    throw err;
  }
  const { text, parsed, hash } = file;
  const located = await Promise.all(parsed.refs.datasets.map(async (ref) => ({ ref, paths: await existingPaths(ref.path, dirname(abs), project.root) })));
  return store.transaction(() => {
    const { config, created } = store.configs.record({
      hash, format: parsed.format, flavor: parsed.flavor, text,
      params: parsed.params, projectId: project.id, absPath: abs,
    });
    const linkedDatasets: LinkedDataset[] = [];
    const unlinkedDatasets: UnlinkedDataset[] = [];
    for (const { ref, paths } of located) {
      const link = linkDataset(store, config, ref, paths);
      if (link) linkedDatasets.push(link);
      else unlinkedDatasets.push(paths[0] === undefined ? { ref } : { ref, localPath: paths[0] });
    }
    return { config, created, refs: parsed.refs, issues: parsed.issues, linkedDatasets, unlinkedDatasets, text, parsed };
  });
}

/** A config that could not be recorded, as a warning event (a deleted file is no news). */
function warnNotRecorded(store: Store, abs: string, err: unknown): void {
  if (err instanceof RpcError && err.code === ErrorCode.NotFound) return;
  const reason = (err instanceof Error ? err.message : String(err)).replace(/\.\s*$/, '');
  store.events.add({
    kind: 'config_not_recorded', severity: 'warning',
    message: `config ${abs} was not recorded: ${reason}. Keel reads it again when it changes.`,
    data: { path: abs },
  });
}

/** The first tracked dataset (exactly, or a folder dataset holding it) among a ref's local paths. */
function linkDataset(store: Store, config: ConfigRecord, ref: DatasetRef, paths: string[]): LinkedDataset | undefined {
  for (const absPath of paths) {
    const dataset = store.datasets.findContaining(absPath)?.dataset;
    const version = dataset && store.datasets.latestVersion(dataset.id);
    if (!dataset || !version) continue;
    store.lineage.addEdge({ kind: 'dataset_version', id: version.id }, { kind: 'config', id: config.id }, EdgeTypes.References);
    return { ref, absPath, dataset, version };
  }
  return undefined;
}

/** Characters that make a path segment a glob (`data/*.jsonl`, `shard-{0,1}.json`). */
const GLOB = /[*?[{]/;

/**
 * Local paths a dataset ref may name, in the order the tools look: relative to the config
 * file's folder, then to the project root (where `axolotl train` and `tune run` usually run).
 * Only paths that exist count, so a hub id (`teknium/GPT4-LLM-Cleaned`) with no local folder
 * of that name resolves to nothing. A glob resolves to the folder above its first wildcard.
 */
export async function existingPaths(ref: string, configDir: string, root: string): Promise<string[]> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) return []; // s3://, hf://, https:// …
  let path = ref === '~' || ref.startsWith('~/') ? join(homedir(), ref.slice(1)) : ref;
  const segments = path.split('/');
  const wild = segments.findIndex((s) => GLOB.test(s));
  if (wild >= 0) path = segments.slice(0, wild).join('/') || '.';
  const candidates = isAbsolute(path) ? [path] : [resolve(configDir, path), resolve(root, path)];
  const found: string[] = [];
  for (const candidate of new Set(candidates)) {
    if (await stat(candidate).then(() => true, () => false)) found.push(candidate);
  }
  return found;
}
