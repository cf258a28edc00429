/**
 * Config tracking: a training config stored once by the hash of its resolved content, its
 * params flattened, and `references` edges to the dataset versions it reads.
 */
export { existingPaths, trackConfig } from './track-config.ts';
export type { ConfigProject, LinkedDataset, TrackConfigDeps, TrackedConfig, UnlinkedDataset } from './track-config.ts';
