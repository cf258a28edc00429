/**
 * A base model reference, as a config or an adapter_config.json writes it, → the one record
 * of that model:
 *  - a folder on this machine (an absolute path, or a relative one that exists under the
 *    project root or the config's folder) is its real path; a `checkpoint-N` of a Keel run is
 *    that checkpoint; anything else is a `local` model record, recognised again by the hash
 *    of its weight files wherever it is copied or moved (a job's workspace copy of
 *    `base-models/tiny-llama` is the project's);
 *  - a Hugging Face cache snapshot (`…/models--org--name/snapshots/<rev>`) is the hub model
 *    `org/name` at that revision;
 *  - `host:path` and an absolute path that is not here are `path` records, as written;
 *  - anything else shaped like a hub id (`meta-llama/Llama-3.1-8B`, `gpt2`) is a `hub` record.
 */
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Store } from '../../store/index.ts';
import { hashTree, type FileHasher, type HashCache } from '../hash/index.ts';
import { lookAtFolder } from '../ingest/folder-look.ts';
import { existingRealPath, isInside } from '../ingest/model-refs.ts';
import { isWeightFile } from '../ingest/weights.ts';

/** The record a base model reference names. */
export interface BaseModelRef {
  kind: 'model' | 'checkpoint';
  id: string;
}

/** What resolving needs: the store, and hashing for local folders. */
export interface BaseModelDeps {
  store: Store;
  hasher?: FileHasher;
  hashCache?: HashCache;
}

/** Where a reference is looked up, and what it must not be. */
export interface BaseModelContext {
  /** Folders a relative path is resolved against, in order (project root, the config's folder). */
  bases: readonly string[];
  /** A folder the base cannot be inside (the run's own output: a model is not its own base). */
  exclude?: string;
  /** Hub revision when the reference's source names one. */
  revision?: string;
}

/** Folders bigger than this are recorded without a content hash (hashing them would take minutes). */
export const MAX_HASHED_MODEL_BYTES = 64 * 1024 ** 3;

const HF_CACHE_SNAPSHOT = /(?:^|\/)models--([^/]+?)--([^/]+)\/snapshots\/([^/]+)\/?$/;
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

/** Resolves `ref` to its record, creating it when new (see the module comment); undefined for an empty ref or the run's own output. */
export async function recordBaseModel(deps: BaseModelDeps, ref: string, ctx: BaseModelContext): Promise<BaseModelRef | undefined> {
  const trimmed = ref.trim().replace(/\/+$/, '');
  if (trimmed === '') return undefined;
  const { store } = deps;
  const local = isAbsolute(trimmed) ? existingRealPath(trimmed) : firstExisting(trimmed, ctx.bases);
  if (local !== undefined && ctx.exclude !== undefined && isInside(local, ctx.exclude)) return undefined;
  const cached = HF_CACHE_SNAPSHOT.exec(local ?? trimmed);
  if (cached) {
    const hubId = `${cached[1] as string}/${cached[2] as string}`;
    const model = store.baseModels.ensure({ kind: 'hub', ref: hubId, revision: cached[3], location: local ?? trimmed });
    return { kind: 'model', id: model.id };
  }
  if (local !== undefined) {
    const checkpoint = store.checkpoints.byLocation(local);
    if (checkpoint !== undefined) return { kind: 'checkpoint', id: checkpoint.id };
    const known = store.baseModels.byLocation(local);
    const hash = known?.hash ?? (await weightsHash(deps, local));
    return { kind: 'model', id: store.baseModels.ensure({ kind: 'local', ref: local, location: local, hash }).id };
  }
  const remote = store.checkpoints.byLocation(trimmed);
  if (remote !== undefined) return { kind: 'checkpoint', id: remote.id };
  const kind = isAbsolute(trimmed) || /^[A-Za-z0-9._-]+:\//.test(trimmed) || trimmed.startsWith('.') || trimmed.startsWith('~') || !HUB_ID.test(trimmed) ? 'path' : 'hub';
  const model = store.baseModels.ensure({ kind, ref: trimmed, location: trimmed, ...(kind === 'hub' && ctx.revision !== undefined ? { revision: ctx.revision } : {}) });
  return { kind: 'model', id: model.id };
}

function firstExisting(ref: string, bases: readonly string[]): string | undefined {
  for (const base of bases) {
    const found = existingRealPath(resolve(base, ref));
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The manifest hash of the weight files of a local model (a folder, or one weight file), or
 * null when it cannot be hashed here (no hasher, too big, unreadable).
 */
async function weightsHash(deps: BaseModelDeps, path: string): Promise<string | null> {
  if (deps.hasher === undefined || deps.hashCache === undefined) return null;
  try {
    const look = await lookAtFolder(path, false);
    if (look.totalBytes > MAX_HASHED_MODEL_BYTES) return null;
    if (look.files.length === 0) {
      // One file (a .gguf, a .safetensors): its own hash under its own name.
      if (!isWeightFile(basename(path))) return null;
      const tree = await hashTree(dirname(path), { cache: deps.hashCache, pool: deps.hasher, what: 'model', ignore: (rel, isDir) => isDir || rel !== basename(path) });
      return tree.files.length === 1 ? tree.hash : null;
    }
    const tree = await hashTree(path, { cache: deps.hashCache, pool: deps.hasher, what: 'model folder', ignore: (rel, isDir) => !isDir && !isWeightFile(rel) });
    return tree.files.length > 0 && tree.skipped.length === 0 ? tree.hash : null;
  } catch {
    return null;
  }
}
