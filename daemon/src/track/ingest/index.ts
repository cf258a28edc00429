/**
 * Runs from training output folders: `RunIngester` turns a folder (HF Trainer, TRL, Axolotl,
 * torchtune, plain TensorBoard or metrics.jsonl writers) into a run with its metric curves,
 * checkpoints and eval results, incrementally and idempotently; `ingestEvalFile` reads an
 * lm-evaluation-harness results file and links it to the checkpoint it measured.
 */
export { RunIngester } from './run-ingester.ts';
export type { IngestRunOptions, RunIngesterDeps } from './run-ingester.ts';
export type { IngestReport } from './context.ts';
export type { EvalFileOptions, EvalFileReport } from './eval-files.ts';
export type { EvalSubject } from './match-model.ts';
export { looksLikeRunDir } from './scan.ts';
