/**
 * Code versions: the git commit of a project plus its dirty patch, content-addressed.
 */
export { snapshotCode } from './snapshot.ts';
export type { CodeProject, CodeSnapshot, SnapshotCodeDeps } from './snapshot.ts';
export { buildDirtyPatch, chooseUntracked, DEFAULT_MAX_PATCH_BYTES, DEFAULT_MAX_UNTRACKED_BYTES } from './patch.ts';
export { BUILT_IN_SECRET_PATTERNS, isProjectFile, PROJECT_FILE_NAME, REDACTED, redactKeelYaml, secretFileMatcher } from './secrets.ts';
export type { SecretMatcher } from './secrets.ts';
export type { DirtyPatch, DirtyPatchOptions, UntrackedFile } from './patch.ts';
export { pickRemote, stripCredentials } from './remote-url.ts';
