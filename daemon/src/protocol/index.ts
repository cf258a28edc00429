/**
 * The wire contract between the daemon and its clients (CLI, extension, webview types).
 * It imports nothing outside this folder.
 */
export * from './domain.ts';
export * from './errors.ts';
export * from './messages.ts';
export * from './methods.ts';
export * from './validate.ts';
export * from './webview.ts';
export * from './run-page.ts';
export * from './eval-verdicts.ts';
export * from './series-pack.ts';
export * from './slurm-values.ts';
