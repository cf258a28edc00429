/**
 * Resolves what a person points at — a path (absolute or relative to `cwd`, a file inside
 * a checkpoint or dataset folder, `host:path`), a record id, or a run name — to a record.
 * A file that moved is found again by its content hash (from the hash cache, or by hashing
 * it when it is small enough to hash on demand).
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { RecordKind } from '../protocol/index.ts';
import type { Store } from '../store/index.ts';
import { fileIdentity, hashFile } from '../track/hash/index.ts';

export interface ResolvedRef {
  kind: RecordKind;
  id: string;
  /** How it was found: 'id', 'path', 'inside' (a file within the record's folder), 'hash' (moved file). */
  via: 'id' | 'name' | 'path' | 'inside' | 'hash';
}

/** Files up to this size are hashed on demand to find a moved file; bigger ones only via the cache. */
const HASH_ON_DEMAND_BYTES = 64 * 1024 * 1024;

function byId(store: Store, ref: string): ResolvedRef | undefined {
  if (/^run_/.test(ref)) {
    const r = store.runs.find(ref);
    return r ? { kind: 'run', id: r.id, via: 'id' } : undefined;
  }
  const probes: [RecordKind, () => unknown][] = [
    ['checkpoint', () => store.checkpoints.get(ref)],
    ['model', () => store.baseModels.get(ref)],
    ['dataset_version', () => store.datasets.version(ref)],
    ['config', () => store.configs.get(ref)],
    ['code_version', () => store.codeVersions.get(ref)],
    ['eval', () => (store.evals.group(ref).length ? true : undefined)],
  ];
  for (const [kind, probe] of probes) if (probe()) return { kind, id: ref, via: 'id' };
  const dataset = store.datasets.get(ref);
  const latest = dataset && store.datasets.latestVersion(dataset.id);
  if (latest) return { kind: 'dataset_version', id: latest.id, via: 'id' };
  return undefined;
}

/** The exact record at a path, or the record whose folder holds it. */
function byPath(store: Store, abs: string): ResolvedRef | undefined {
  for (let p = abs, inside = false; ; inside = true) {
    const via = inside ? 'inside' : 'path';
    const ckpt = store.checkpoints.byLocation(p);
    if (ckpt) return { kind: 'checkpoint', id: ckpt.id, via };
    const model = store.baseModels.byLocation(p);
    if (model) return { kind: 'model', id: model.id, via };
    const ds = store.datasets.byAbsPath(p);
    const dv = ds && store.datasets.latestVersion(ds.id);
    if (dv) return { kind: 'dataset_version', id: dv.id, via };
    if (!inside) {
      const cfg = store.configs.byPath(p);
      if (cfg) return { kind: 'config', id: cfg.id, via };
      const evalGroup = store.evals.groupIdForSource(p);
      if (evalGroup) return { kind: 'eval', id: evalGroup, via };
    }
    const run = store.runs.findByOutputDir(p);
    if (run) return { kind: 'run', id: run.id, via };
    const parent = dirname(p);
    if (parent === p) return undefined;
    p = parent;
  }
}

async function byContent(store: Store, abs: string): Promise<ResolvedRef | undefined> {
  let st;
  try {
    st = statSync(abs, { bigint: true });
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  const identity = fileIdentity(st);
  let hash = store.fileHashes.get(identity);
  if (!hash && Number(st.size) <= HASH_ON_DEMAND_BYTES) {
    hash = (await hashFile(abs)).hash;
    // Cached like any other hash, so hovering the same file again reads nothing — unless it was
    // written in the last 2 s, when a same-size rewrite could keep the same mtime tick.
    if (Date.now() - Number(st.mtimeMs) > 2000) store.fileHashes.put(identity, hash, abs);
  }
  if (!hash) return undefined;
  const dv = store.datasets.versionsByHash(hash)[0] ?? store.datasets.versionsWithFileHash(hash)[0]?.version;
  if (dv) return { kind: 'dataset_version', id: dv.id, via: 'hash' };
  // The same content seen under another path (where it was moved from, or a copy) names the record.
  for (const known of store.fileHashes.findByHash(hash)) {
    const found = known.path !== abs ? byPath(store, known.path) : undefined;
    if (found) return { ...found, via: 'hash' };
  }
  return undefined;
}

/** Resolves `ref` (see the module comment); undefined when it names nothing Keel tracks. */
export async function resolveRef(store: Store, ref: string, cwd?: string): Promise<ResolvedRef | undefined> {
  const trimmed = ref.trim().replace(/^['"`]|['"`]$/g, '');
  if (!trimmed) return undefined;
  const found = byId(store, trimmed);
  if (found) return found;
  const remote = /^([A-Za-z0-9._-]+):(\/.*|~.*)$/.exec(trimmed);
  if (remote) {
    const ckpt = store.checkpoints.byLocation(trimmed);
    return ckpt ? { kind: 'checkpoint', id: ckpt.id, via: 'path' } : undefined;
  }
  const named = store.runs.find(trimmed);
  if (named && !trimmed.includes('/')) return { kind: 'run', id: named.id, via: 'name' };
  // A hub id (`meta-llama/Llama-3.1-8B`) as a base model was named.
  const hub = store.baseModels.byLocation(trimmed.replace(/\/+$/, ''));
  if (hub && hub.kind !== 'local') return { kind: 'model', id: hub.id, via: 'name' };
  const abs = isAbsolute(trimmed) ? resolve(trimmed) : cwd ? resolve(cwd, trimmed) : undefined;
  if (!abs) return undefined;
  const real = existsSync(abs) ? realpathSync(abs) : abs;
  return byPath(store, real) ?? (real !== abs ? byPath(store, abs) : undefined) ?? (await byContent(store, real));
}
