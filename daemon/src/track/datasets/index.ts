/**
 * Dataset tracking: a file or folder hashed by content (cached by inode, size and mtime), a
 * version recorded when the content is new, and a profile of its text data.
 */
export { defaultDatasetIgnore, PROGRESS_INTERVAL_MS, projectPath, trackDataset } from './track-dataset.ts';
export type { DatasetProgress, DatasetProject, TrackDatasetDeps, TrackedDataset } from './track-dataset.ts';
export { isProfilable, MAX_PROFILED_FILES, MAX_STORED_SKIPPED, profileFile, profileFolder, summarizeSkipped } from './profile-folder.ts';
export type { FileProfile, FolderProfile, FolderTotals, ProfileProgress, ProfileTreeOptions, SkippedSummary } from './profile-folder.ts';
