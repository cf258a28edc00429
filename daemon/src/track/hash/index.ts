/**
 * Content hashing for datasets, checkpoints and code snapshots: `hashTree` for a folder or
 * file, a worker pool so hashing never blocks the daemon, and the file-hash cache contract.
 */
export { HASH_ALGO, formatHash, hashBytes, isCurrentHash, parseHash } from './algorithm.ts';
export type { HashAlgo, ParsedHash } from './algorithm.ts';
export { createMemoryHashCache, fileIdentity, identityKey, sameIdentity } from './cache.ts';
export type { FileIdentity, HashCache, MemoryHashCache } from './cache.ts';
export { FileReadError, hashFile } from './file-hash.ts';
export type { FileHash, HashFileOptions } from './file-hash.ts';
export { comparePaths, escapeManifestPath, manifestHash, manifestText } from './manifest.ts';
export type { ManifestEntry } from './manifest.ts';
export { createHashPool } from './pool.ts';
export type { FileHasher, HashPool, HashPoolOptions } from './pool.ts';
export { hashTree } from './tree.ts';
export type { HashTreeOptions, TreeHash, TreeProgress } from './tree.ts';
export type { IgnoreRule, SkipKind, SkippedPath } from './walk.ts';
