/**
 * A training config file read and parsed whole: the text (at most InputLimits.config, from a
 * regular file only), the parse with its caps (see parse.ts, interpolate.ts, flatten.ts), and
 * the content hash. The daemon runs this in a parse worker (work/parse-pool.ts), so a huge or
 * pathological config costs a worker, never the event loop.
 */
import { readInputText, InputLimits } from '../input-file.ts';
import { configContentHash } from './flatten.ts';
import { parseTrainingConfig } from './parse.ts';
import type { TrainingConfig } from './types.ts';

/** What reading a config file gives. */
export interface ParsedConfigFile {
  /** The file's text as read. */
  text: string;
  parsed: TrainingConfig;
  /** `sha256:` of the resolved content (see configContentHash). */
  hash: string;
}

/** Reads and parses the config at `path`; throws InputFileError or ConfigInvalidError. */
export async function readConfigFile(path: string): Promise<ParsedConfigFile> {
  const text = await readInputText(path, { maxBytes: InputLimits.config, what: 'training config' });
  const parsed = parseTrainingConfig(text, path);
  return { text, parsed, hash: configContentHash(parsed.data) };
}
