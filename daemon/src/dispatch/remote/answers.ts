/**
 * Reading the answers of cache.sh, artifacts.sh and check.sh (see their headers). Like
 * markers.ts: only KEEL_ lines count, and an answer without KEEL_END was cut short — it is
 * never taken as an answer (a host check that lost its end records no GPUs).
 */
import { readMarkers, unescapePath } from './markers.ts';

/** cache.sh check, for one folder. */
export type CacheState = 'absent' | 'ok' | 'changed';

/** cache.sh check's answer: folder → state; null when cut short. */
export function parseCacheCheck(output: string): Map<string, CacheState> | null {
  const { markers, complete } = readMarkers(output);
  if (!complete) return null;
  const out = new Map<string, CacheState>();
  for (const { key, rest } of markers) {
    const m = key === 'CACHE' ? /^(absent|ok|changed) (.*)$/.exec(rest) : null;
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(unescapePath(m[2]), m[1] as CacheState);
  }
  return out;
}

/** One file of a cache folder as cache.sh hash saw it. */
export interface HashedFile {
  path: string;
  size: number;
  hash: string;
  executable: boolean;
}

/** cache.sh hash: the folder's files, the listing digest to seal, and whether it changed meanwhile. */
export interface CacheHash {
  missing: boolean;
  digest: string;
  files: HashedFile[];
  changedWhileHashing: boolean;
}

/** cache.sh hash's answer; null when cut short or inconsistent (ask again). */
export function parseCacheHash(output: string): CacheHash | null {
  const { markers, complete } = readMarkers(output);
  if (!complete) return null;
  if (markers.some((m) => m.key === 'MISSING')) return { missing: true, digest: '', files: [], changedWhileHashing: false };
  const stats = new Map<string, { size: number; executable: boolean }>();
  const shas = new Map<string, string>();
  let digest = '';
  for (const { key, rest } of markers) {
    if (key === 'DIGEST') digest = rest;
    const m = key === 'STAT' ? /^(\d+) ([x-]) (.*)$/.exec(rest) : key === 'SHA' ? /^([0-9a-f]{64}) ()(.*)$/.exec(rest) : null;
    if (!m) continue;
    const path = unescapePath(m[3] ?? '');
    if (key === 'STAT') stats.set(path, { size: Number(m[1]), executable: m[2] === 'x' });
    else shas.set(path, `sha256:${m[1] ?? ''}`);
  }
  if (digest === '' || stats.size !== shas.size) return null;
  const files: HashedFile[] = [];
  for (const [path, st] of stats) {
    const hash = shas.get(path);
    if (hash === undefined) return null;
    files.push({ path, size: st.size, hash, executable: st.executable });
  }
  return { missing: false, digest, files, changedWhileHashing: markers.some((m) => m.key === 'CHANGED') };
}

/** cache.sh seal: true when sealed. */
export function parseCacheSeal(output: string): boolean {
  const { markers, complete } = readMarkers(output);
  return complete && markers.find((m) => m.key === 'SEAL')?.rest === 'ok';
}

/** A complete checkpoint folder on a host and its files. */
export interface RemoteCheckpoint {
  path: string;
  files: { path: string; size: number; hash: string }[];
}

/** artifacts.sh's answer. */
export function parseArtifacts(output: string): { checkpoints: RemoteCheckpoint[]; complete: boolean } {
  const { markers, complete } = readMarkers(output);
  const checkpoints: RemoteCheckpoint[] = [];
  for (const { key, rest } of markers) {
    if (key === 'CKPT') checkpoints.push({ path: unescapePath(rest), files: [] });
    else if (key === 'FILE') {
      const [hex, size, name] = rest.split('\t');
      const cur = checkpoints.at(-1);
      if (cur && hex && size && name && /^[0-9a-f]{64}$/.test(hex)) cur.files.push({ path: unescapePath(name), size: Number(size), hash: `sha256:${hex}` });
    }
  }
  return { checkpoints, complete };
}

/** check.sh's answer, as lines by key; null when cut short. */
export function parseCheck(output: string): { value(key: string): string | null; all(key: string): string[]; has(key: string): boolean } | null {
  const { markers, complete } = readMarkers(output);
  if (!complete) return null;
  return {
    value: (key) => markers.find((m) => m.key === key)?.rest ?? null,
    all: (key) => markers.filter((m) => m.key === key).map((m) => m.rest),
    has: (key) => markers.some((m) => m.key === key),
  };
}
