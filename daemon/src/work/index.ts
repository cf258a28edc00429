/** Work off the daemon's event loop: the worker pool and the parse tasks it runs. */
export { WorkerPool, WorkerLimitError } from './pool.ts';
export type { RunOptions, TaskSpec, WorkerPoolOptions } from './pool.ts';
export { createParsePool, defaultParsePool, installParsePool, ParsePool, ParseTimeouts } from './parse-pool.ts';
export type { ParsePoolOptions } from './parse-pool.ts';
