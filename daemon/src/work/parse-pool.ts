/**
 * The daemon's parse pool: a {@link WorkerPool} running the parse worker (parse-worker.ts),
 * with one typed method per task and the time limit that suits it. The daemon creates one at
 * start and closes it at shutdown (server/daemon.ts); code that is not handed a pool uses the
 * process's default (installed by the daemon, or made on first use), whose idle workers never
 * keep a process alive.
 */
import type { ParsedConfigFile } from '../track/config/config-file.ts';
import type { HfResults } from '../track/formats/hf-results.ts';
import type { LmEvalResults } from '../track/formats/lm-eval.ts';
import type { PointBatch, TrainerStateRead } from '../track/formats/trainer-state-file.ts';
import type { ProjectFileResult } from '../track/project/keel-yaml.ts';
import { WorkerPool } from './pool.ts';
import type { ParseTasks } from './task-types.ts';
import { parseWorkerUrl } from './worker-url.ts';

/** Time limits per task (ms). A streaming task's limit is per batch: the time the worker may go without progress. */
export const ParseTimeouts = {
  config: 30_000,
  projectFile: 10_000,
  /** Per batch of trainer_state points (and for the facts after the last one). */
  trainerStateBatch: 60_000,
  /** One top-level number: may scan a multi-GB file to its end when the key comes last. */
  trainerStateNumber: 300_000,
  /** A results file of up to InputLimits.resultsFile (64 MiB). */
  resultsFile: 60_000,
} as const;

/** Parse pool settings. */
export interface ParsePoolOptions {
  /** Worker threads at most; default min(2, CPUs). */
  size?: number;
  /** Heap limit per worker in MiB; default 512. */
  maxOldGenerationSizeMb?: number;
  /** Override the time limits (tests). */
  timeouts?: Partial<Record<keyof typeof ParseTimeouts, number>>;
}

/** Parsing off the event loop. */
export class ParsePool {
  readonly #pool: WorkerPool<ParseTasks>;
  readonly #timeouts: Record<keyof typeof ParseTimeouts, number>;

  constructor(opts: ParsePoolOptions = {}) {
    this.#pool = new WorkerPool<ParseTasks>({
      workerUrl: parseWorkerUrl(), name: 'keel-parse',
      ...(opts.size === undefined ? {} : { size: opts.size }),
      ...(opts.maxOldGenerationSizeMb === undefined ? {} : { maxOldGenerationSizeMb: opts.maxOldGenerationSizeMb }),
    });
    this.#timeouts = { ...ParseTimeouts, ...opts.timeouts };
  }

  /** The pool underneath (tests read its worker counts). */
  get workers(): WorkerPool<ParseTasks> {
    return this.#pool;
  }

  /** Reads and parses a training config (see track/config/config-file.ts). */
  parseConfigFile(path: string): Promise<ParsedConfigFile> {
    return this.#pool.run('config', { path }, { file: path, what: 'training config', timeoutMs: this.#timeouts.config });
  }

  /**
   * Parses keel.yaml text (track/project/keel-yaml.ts parseProjectFile) in a worker: for the
   * code that reads keel.yaml, so a pathological project file never blocks the daemon.
   */
  parseProjectFile(text: string, fileName: string): Promise<ProjectFileResult> {
    return this.#pool.run('project-file', { text, fileName }, { file: fileName, what: 'keel.yaml', timeoutMs: this.#timeouts.projectFile });
  }

  /**
   * Streams a trainer_state.json: `onBatch` gets its points in batches of about `batchPoints`,
   * in file order, one call at a time (each after the previous one resolved; a throw stops the
   * task); the worker reads ahead by at most STREAM_AHEAD batches (work/wire.ts). Resolves with the facts after the last batch; rejects with FormatError
   * (E_TRUNCATED: read again later), InputFileError or WorkerLimitError.
   */
  streamTrainerState(path: string, onBatch: (batch: PointBatch) => Promise<void>, batchPoints = 5_000): Promise<TrainerStateRead> {
    return this.#pool.run('trainer-state', { path, batchPoints }, { file: path, what: 'trainer_state.json', timeoutMs: this.#timeouts.trainerStateBatch, onBatch });
  }

  /** A top-level number (`global_step`) of a trainer_state.json, without reading its log_history; undefined when absent. */
  readTrainerStateNumber(path: string, key: 'global_step' | 'max_steps'): Promise<number | undefined> {
    return this.#pool.run('trainer-state-number', { path, key }, { file: path, what: 'trainer_state.json', timeoutMs: this.#timeouts.trainerStateNumber });
  }

  /** Reads and parses an lm-eval results file (track/formats/results-file.ts). */
  readLmEvalResults(path: string): Promise<LmEvalResults> {
    return this.#pool.run('lm-eval-results', { path }, { file: path, what: 'lm-eval results file', timeoutMs: this.#timeouts.resultsFile });
  }

  /** Reads and parses a Trainer `*_results.json` (track/formats/results-file.ts). */
  readHfResults(path: string): Promise<HfResults> {
    return this.#pool.run('hf-results', { path }, { file: path, what: 'Trainer results file', timeoutMs: this.#timeouts.resultsFile });
  }

  /** Stops the workers; running and queued tasks reject. Calling it twice is harmless. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

let installed: ParsePool | undefined;

/** Creates a parse pool; `close()` it when done. */
export function createParsePool(opts: ParsePoolOptions = {}): ParsePool {
  return new ParsePool(opts);
}

/** Makes `pool` the process's default (the daemon does this at start). */
export function installParsePool(pool: ParsePool): void {
  installed = pool;
}

/** The process's default pool: the installed one, else one made now (its idle workers let the process exit). */
export function defaultParsePool(): ParsePool {
  installed ??= new ParsePool();
  return installed;
}
