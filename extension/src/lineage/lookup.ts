/**
 * Looks a hovered token up in the daemon, fast or not at all: candidates in order (the
 * file's folder, then the workspace folder), answers cached per (path, mtime) for a TTL,
 * and a time box after which the hover gives up while the lookup finishes in the background
 * and lands in the cache for the next hover.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { KeelClient } from '../../../daemon/src/client/client.ts';
import type { LineageGraph, LineageNode } from '../../../daemon/src/protocol/index.ts';
import { profileWarnings } from '../datasets/profile-warnings.ts';
import type { PathToken } from './path-token.ts';
import { TtlCache } from './ttl-cache.ts';

/** What a hover card is drawn from. */
export interface LineageCard {
  node: LineageNode;
  /** lineage/get at depth 2; null when that call failed (the card then shows the node alone). */
  graph: LineageGraph | null;
  /** A dataset version's profile warnings (duplicates, invalid lines, likely PII); absent for other records. */
  warnings?: string[];
}

/** One way to read the token: a daemon ref and the cache key of that reading. */
export interface Candidate {
  key: string;
  ref: string;
}

type Caller = Pick<KeelClient, 'call'>;

export interface LookupOptions {
  /** How long answers are kept. */
  ttlMs: number;
  /** Longest a lookup keeps going in the background after the hover gave up. */
  backgroundTimeoutMs: number;
}

/**
 * The readings of a token, most likely first. A relative path is tried against the file's
 * folder, then the workspace folder; one that exists on disk comes before one that does not,
 * and a bare name (`train.jsonl`) that exists nowhere is not asked about at all.
 */
export async function candidatesFor(token: PathToken, fileDir: string | undefined, workspaceDir: string | undefined): Promise<Candidate[]> {
  if (token.kind === 'id') return [{ key: `id:${token.text}`, ref: token.text }];
  if (token.kind === 'remote') return [{ key: `remote:${token.text}`, ref: token.text }];
  const text = token.text.startsWith('~/') ? `${homedir()}${token.text.slice(1)}` : token.text;
  const bases = isAbsolute(text) ? [''] : [fileDir, workspaceDir].filter((d): d is string => d !== undefined);
  const paths = [...new Set(bases.map((b) => (b === '' ? resolve(text) : resolve(b, text))))];
  const stats = await Promise.all(paths.map((p) => stat(p).then((s) => s, () => undefined)));
  const existing: Candidate[] = [];
  const missing: Candidate[] = [];
  paths.forEach((p, i) => {
    const s = stats[i];
    if (s) existing.push({ key: `path:${p}:${s.mtimeMs}:${s.size}`, ref: p });
    // A checkpoint may be tracked at a path that is gone (pulled elsewhere, cleaned up).
    else if (text.includes('/')) missing.push({ key: `path:${p}:missing`, ref: p });
  });
  return existing.length ? existing : missing.slice(0, 1);
}

export class LineageLookup {
  private readonly cache: TtlCache<LineageCard | null>;
  private readonly inflight = new Map<string, Promise<LineageCard | null>>();
  private readonly backgroundTimeoutMs: number;
  /** Bumped by clear(): answers to lookups started before it are not cached. */
  private generation = 0;

  constructor(opts: LookupOptions) {
    this.cache = new TtlCache(opts.ttlMs);
    this.backgroundTimeoutMs = opts.backgroundTimeoutMs;
  }

  /** Forgets every answer (a run or project changed). */
  clear(): void {
    this.generation++;
    this.cache.clear();
    this.inflight.clear();
  }

  /** The cached answer for a candidate: a card, null (not tracked), or undefined (not asked yet). */
  cached(c: Candidate): LineageCard | null | undefined {
    return this.cache.get(c.key);
  }

  /**
   * The card of the first candidate that names a tracked record; null when none does;
   * undefined when `timeBoxMs` ran out first (show no hover rather than a slow one).
   */
  async lookup(client: Caller, candidates: readonly Candidate[], timeBoxMs: number): Promise<LineageCard | null | undefined> {
    const deadline = Date.now() + timeBoxMs;
    for (const c of candidates) {
      const known = this.cache.get(c.key);
      if (known) return known;
      if (known === null) continue;
      const answer = await withDeadline(this.fetchOnce(client, c), deadline);
      if (answer === TIMED_OUT) return undefined;
      if (answer) return answer;
    }
    return null;
  }

  private fetchOnce(client: Caller, c: Candidate): Promise<LineageCard | null> {
    const running = this.inflight.get(c.key);
    if (running) return running;
    const generation = this.generation;
    const p = this.fetch(client, c).then(
      (card) => {
        if (generation === this.generation) this.cache.set(c.key, card);
        return card;
      },
      // A failed call (daemon gone, timeout) is not an answer: do not cache it.
      () => null,
    ).finally(() => this.inflight.delete(c.key));
    this.inflight.set(c.key, p);
    return p;
  }

  private async fetch(client: Caller, c: Candidate): Promise<LineageCard | null> {
    const timeoutMs = this.backgroundTimeoutMs;
    const { node } = await client.call('lineage/resolve', { ref: c.ref }, { timeoutMs });
    if (!node) return null;
    const [graph, warnings] = await Promise.all([
      client.call('lineage/get', { ref: node.id, depth: 2 }, { timeoutMs }).catch(() => null),
      datasetWarnings(client, node, timeoutMs),
    ]);
    return warnings ? { node, graph, warnings } : { node, graph };
  }
}

/** The profile warnings of a dataset version node (undefined for other nodes, or when they cannot be read). */
async function datasetWarnings(client: Caller, node: LineageNode, timeoutMs: number): Promise<string[] | undefined> {
  const datasetId = node.details.datasetId;
  if (node.kind !== 'dataset_version' || typeof datasetId !== 'string') return undefined;
  const shown = await client.call('datasets/show', { ref: datasetId }, { timeoutMs }).catch(() => null);
  const version = shown?.versions.find((v) => v.id === node.id);
  return version ? profileWarnings(version.profile) : undefined;
}

const TIMED_OUT = Symbol('timed out');

function withDeadline<T>(p: Promise<T>, deadline: number): Promise<T | typeof TIMED_OUT> {
  const ms = deadline - Date.now();
  if (ms <= 0) return Promise.resolve(TIMED_OUT);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((r) => {
    timer = setTimeout(() => r(TIMED_OUT), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
