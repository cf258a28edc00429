/** The parse worker's task implementations (run inside the worker only). */
import { readConfigFile } from '../track/config/config-file.ts';
import { readHfResultsFile, readLmEvalResultsFile } from '../track/formats/results-file.ts';
import { readTrainerStateNumber, streamTrainerStateFile } from '../track/formats/trainer-state-file.ts';
import { parseProjectFile } from '../track/project/keel-yaml.ts';
import type { ParseTasks } from './task-types.ts';

/** Sends one batch to the daemon and resolves once it was handled (backpressure). */
export type Emit<B> = (batch: B, transfer?: ArrayBuffer[]) => Promise<void>;

type Implementations = {
  [K in keyof ParseTasks]: (args: ParseTasks[K]['args'], emit: Emit<ParseTasks[K]['batch']>) => Promise<ParseTasks[K]['result']> | ParseTasks[K]['result'];
};

/** Every task the worker runs, by kind. */
export const WORKER_TASKS: Implementations = {
  config: ({ path }) => readConfigFile(path),
  'project-file': ({ text, fileName }) => parseProjectFile(text, fileName),
  'trainer-state': ({ path, batchPoints }, emit) =>
    streamTrainerStateFile(path, { batchPoints }, (batch) => emit(batch, [batch.key.buffer, batch.step.buffer, batch.value.buffer] as ArrayBuffer[])),
  'trainer-state-number': ({ path, key }) => readTrainerStateNumber(path, key),
  'lm-eval-results': ({ path }) => readLmEvalResultsFile(path),
  'hf-results': ({ path }) => readHfResultsFile(path),
};
