/**
 * trainer_state.json read as it arrives, in bounded memory: each `log_history` entry is cut
 * out (json-scan.ts), parsed on its own and turned into points at once, so neither the whole
 * text nor the whole history is ever held. A five-million-entry file costs one entry at a time.
 *
 * The rules are parseTrainerState's (trainer-state.ts, which is this reader fed one string):
 * one point per numeric key per entry, in file order (a later entry wins on (step, key) when
 * the caller upserts in order); the last entry holding `train_runtime` is the summary, not a
 * series; the top-level fields are facts, known only at the end (HF sorts keys, so
 * `max_steps` and `stateful_callbacks` come after `log_history`).
 */
import { scanValueEnd, skipSpace, startScan, type ValueScan } from './json-scan.ts';
import { parseTolerantJson } from './tolerant-json.ts';
import { FormatError, asNumber, asString, describeValue as describe, isJsonObject } from './types.ts';
import type { JsonObject, ParseIssue } from './types.ts';

/** What a trainer_state.json says besides its points. Every field may be missing. */
export interface TrainerStateFacts {
  globalStep?: number;
  epoch?: number;
  maxSteps?: number;
  numTrainEpochs?: number;
  bestMetric?: number;
  /** `best_model_checkpoint` exactly as written: a path on the training host, often foreign. */
  bestModelCheckpoint?: string;
  /** Last path segment of `bestModelCheckpoint` (e.g. `checkpoint-500`), for matching by folder name. */
  bestCheckpointName?: string;
  /** `best_global_step` (transformers ≥ 4.50 or so). */
  bestGlobalStep?: number;
  loggingSteps?: number;
  evalSteps?: number;
  saveSteps?: number;
  trainBatchSize?: number;
  totalFlos?: number;
  numInputTokensSeen?: number;
  /** `stateful_callbacks.TrainerControl.args.should_training_stop`: false in a checkpoint of an unfinished run. */
  shouldTrainingStop?: boolean;
  /** Numeric values of the last end-of-training summary entry (`train_runtime`, `train_loss`, `total_flos`…). */
  summary: Record<string, number>;
  issues: ParseIssue[];
}

/** Reader settings. */
export interface TrainerStateReaderOptions {
  /** The file, for error messages. */
  source?: string;
  /** Receives each log_history point, in file order. */
  onPoint?: (step: number, key: string, value: number) => void;
  /** Scan past log_history without reading it (only the top-level facts are wanted). */
  skipHistory?: boolean;
  /** Stop once this top-level key has been read (its facts are then complete enough). */
  stopAfterKey?: string;
  /** The largest single value (one entry, one top-level field) in characters; default 64 Mi. */
  maxValueChars?: number;
}

/** The key that only the end-of-training summary entry carries. */
const SUMMARY_MARKER = 'train_runtime';
/** log_history problems listed one by one; more are counted in one last issue. */
const MAX_HISTORY_ISSUES = 100;

const NUMERIC_FIELDS = [
  ['global_step', 'globalStep'], ['epoch', 'epoch'], ['max_steps', 'maxSteps'], ['num_train_epochs', 'numTrainEpochs'],
  ['best_metric', 'bestMetric'], ['best_global_step', 'bestGlobalStep'], ['logging_steps', 'loggingSteps'],
  ['eval_steps', 'evalSteps'], ['save_steps', 'saveSteps'], ['train_batch_size', 'trainBatchSize'],
  ['total_flos', 'totalFlos'], ['num_input_tokens_seen', 'numInputTokensSeen'],
] as const;
/** Top-level fields kept until the end; everything else is checked and dropped. */
const WANTED = new Set<string>([...NUMERIC_FIELDS.map(([field]) => field), 'best_model_checkpoint', 'stateful_callbacks']);

type State =
  | 'root' | 'root-value' | 'first-key' | 'key' | 'colon' | 'value' | 'after-value'
  | 'history-start' | 'history-first' | 'entry' | 'history-after' | 'done';

/** Reads trainer_state.json text pushed in pieces; see the module comment. */
export class TrainerStateReader {
  readonly #opts: TrainerStateReaderOptions;
  readonly #maxValue: number;
  #buf = '';
  #pos = 0;
  #state: State = 'root';
  /** The value being scanned, and whether its text is kept to be parsed. */
  #scan: ValueScan | undefined;
  #keep = true;
  #key = '';
  #eof = false;
  #stopped = false;
  /** Line and column (1-based) of #buf[0] in the file. */
  #line = 1;
  #column = 1;
  readonly #root: JsonObject = {};
  #historyValue: unknown;
  #summary: Record<string, number> = {};
  readonly #historyIssues: ParseIssue[] = [];
  #moreHistoryIssues = 0;
  #entries = 0;
  /** Points read so far, and the highest step among them (0 when none). */
  points = 0;
  lastStep = 0;

  constructor(opts: TrainerStateReaderOptions = {}) {
    this.#opts = opts;
    this.#maxValue = opts.maxValueChars ?? 64 * 1024 * 1024;
  }

  /** True once `stopAfterKey` was read: more text is not needed. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Reads the next piece of text. Throws FormatError (E_MALFORMED) as soon as the text is broken. */
  push(text: string): void {
    if (this.#stopped) return;
    this.#buf = this.#buf.length === 0 ? text : this.#buf + text;
    this.#run();
    this.#trim();
  }

  /** The end of the text: returns the facts, or throws FormatError (E_TRUNCATED when it stops early). */
  end(): TrainerStateFacts {
    if (!this.#stopped) {
      this.#eof = true;
      this.#run();
      if (this.#state !== 'done') throw this.#fail(this.#buf.length, this.#whereCut(), 'E_TRUNCATED');
    }
    return this.#facts();
  }

  #run(): void {
    while (!this.#stopped && this.#step());
  }

  /** One move of the state machine; false when it needs more text (or is done). */
  #step(): boolean {
    if (this.#scan !== undefined) return this.#continueScan();
    this.#pos = skipSpace(this.#buf, this.#pos);
    if (this.#pos >= this.#buf.length) {
      if (this.#eof && this.#state !== 'done') throw this.#fail(this.#pos, this.#whereCut(), 'E_TRUNCATED');
      return false;
    }
    const c = this.#buf[this.#pos] as string;
    switch (this.#state) {
      case 'root':
        if (c === '{') return this.#move('first-key');
        return this.#beginScan('root-value', true);
      case 'first-key':
        if (c === '}') return this.#move('done');
        this.#state = 'key';
        return true;
      case 'key':
        if (c !== '"') throw this.#fail(this.#pos, `expected a quoted key, found ${this.#here()}`);
        return this.#beginScan('key', true);
      case 'colon':
        if (c !== ':') throw this.#fail(this.#pos, `expected ':' after an object key, found ${this.#here()}`);
        return this.#move(this.#key === 'log_history' ? 'history-start' : 'value');
      case 'value':
        return this.#beginScan('value', true);
      case 'history-start':
        if (this.#opts.skipHistory) return this.#beginScan('value', false);
        if (c === '[') return this.#move('history-first');
        return this.#beginScan('value', true);
      case 'history-first':
        if (c === ']') return this.#move('after-value');
        this.#state = 'entry';
        return true;
      case 'entry':
        return this.#beginScan('entry', true);
      case 'after-value':
      case 'history-after':
        return this.#afterItem(c);
      default:
        throw this.#fail(this.#pos, `unexpected text after the end of the JSON value: ${this.#here()}`);
    }
  }

  #move(next: State): boolean {
    this.#pos++;
    this.#state = next;
    return true;
  }

  #afterItem(c: string): boolean {
    const inHistory = this.#state === 'history-after';
    if (c === ',') return this.#move(inHistory ? 'entry' : 'key');
    if (c === (inHistory ? ']' : '}')) return this.#move(inHistory ? 'after-value' : 'done');
    throw this.#fail(this.#pos, `expected ',' or '${inHistory ? ']' : '}'}' ${inHistory ? 'in log_history' : 'in the top-level object'}, found ${this.#here()}`);
  }

  #beginScan(state: State, keep: boolean): boolean {
    this.#state = state;
    this.#scan = startScan(this.#pos);
    this.#keep = keep;
    return true;
  }

  #continueScan(): boolean {
    const scan = this.#scan as ValueScan;
    const end = scanValueEnd(this.#buf, scan, this.#eof);
    if (end < 0) {
      if (this.#eof) throw this.#fail(this.#buf.length, this.#whereCut(), 'E_TRUNCATED');
      if (this.#keep && this.#buf.length - scan.start > this.#maxValue) {
        throw this.#fail(scan.start, `a single value longer than ${Math.round(this.#maxValue / (1024 * 1024))} Mi characters; Keel does not read values that large`);
      }
      return false;
    }
    this.#scan = undefined;
    this.#pos = end;
    if (this.#keep) this.#take(this.#value(scan.start, end));
    else this.#state = 'after-value';
    return true;
  }

  /** Uses a value just read, by the state that asked for it. */
  #take(value: unknown): void {
    switch (this.#state) {
      case 'root-value':
        throw new FormatError('E_SHAPE', 'not a trainer_state.json: the top level is not a JSON object', this.#opts.source === undefined ? {} : { source: this.#opts.source });
      case 'key':
        this.#key = value as string;
        this.#state = 'colon';
        return;
      case 'entry':
        this.#entry(value);
        this.#state = 'history-after';
        return;
      default:
        if (this.#key === 'log_history') this.#historyValue = value;
        else if (WANTED.has(this.#key)) this.#root[this.#key] = value;
        this.#state = 'after-value';
        if (this.#key === this.#opts.stopAfterKey) this.#stopped = true;
    }
  }

  /** Parses #buf[start, end); a mistake is reported at its place in the whole file. */
  #value(start: number, end: number): unknown {
    try {
      return parseTolerantJson(this.#buf.slice(start, end), this.#opts.source);
    } catch (err) {
      if (!(err instanceof FormatError)) throw err;
      const at = this.#position(start);
      const line = at.line + (err.line ?? 1) - 1;
      const column = (err.line ?? 1) === 1 ? at.column + (err.column ?? 1) - 1 : (err.column ?? 1);
      const code = err.code === 'E_TRUNCATED' && this.#eof && end === this.#buf.length ? 'E_TRUNCATED' : 'E_MALFORMED';
      throw new FormatError(code, err.detail, { ...(this.#opts.source === undefined ? {} : { source: this.#opts.source }), line, column });
    }
  }

  /** One log_history entry → its points (or the summary, or an issue). */
  #entry(entry: unknown): void {
    const index = this.#entries++;
    if (!isJsonObject(entry)) return this.#historyIssue(`log_history[${index}] is not an object; skipped`);
    if (SUMMARY_MARKER in entry) {
      // A resumed run appends one summary per train() call; the last one describes the run.
      this.#summary = numericValues(entry, 'step');
      return;
    }
    const step = entry.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return this.#historyIssue(`log_history[${index}] has no usable step (${describe(step)}); skipped`);
    for (const key of Object.keys(entry)) {
      const value = entry[key];
      if (key === 'step' || typeof value !== 'number') continue;
      this.points++;
      if (step > this.lastStep) this.lastStep = step;
      this.#opts.onPoint?.(step, key, value);
    }
  }

  #historyIssue(message: string): void {
    if (this.#historyIssues.length < MAX_HISTORY_ISSUES) this.#historyIssues.push({ message });
    else this.#moreHistoryIssues++;
  }

  /** Drops the text already read (keeping a value being scanned), counting its lines for positions. */
  #trim(): void {
    const scan = this.#scan;
    const from = scan === undefined ? this.#pos : this.#keep ? scan.start : scan.pos;
    if (from === 0) return;
    const at = this.#position(from);
    this.#line = at.line;
    this.#column = at.column;
    this.#buf = this.#buf.slice(from);
    this.#pos -= from;
    if (scan !== undefined) {
      scan.start = Math.max(0, scan.start - from);
      scan.pos -= from;
    }
  }

  /** Line and column in the file of #buf[index]. */
  #position(index: number): { line: number; column: number } {
    let line = this.#line;
    let lineStart = -1;
    for (let i = this.#buf.indexOf('\n'); i >= 0 && i < index; i = this.#buf.indexOf('\n', i + 1)) {
      line++;
      lineStart = i;
    }
    return { line, column: lineStart < 0 ? this.#column + index : index - lineStart };
  }

  #here(): string {
    if (this.#pos >= this.#buf.length) return 'the end of the text';
    return `'${this.#buf.slice(this.#pos, this.#pos + 12).split('\n')[0] ?? ''}'`;
  }

  #whereCut(): string {
    const inside = this.#state === 'root' ? 'the file is empty'
      : this.#state === 'entry' || this.#state === 'history-after' || this.#state === 'history-first' ? 'the text ends inside log_history'
        : 'the text ends before the closing }';
    return inside;
  }

  #fail(index: number, message: string, code: 'E_MALFORMED' | 'E_TRUNCATED' = 'E_MALFORMED'): FormatError {
    const { line, column } = this.#position(Math.min(index, this.#buf.length));
    const hint = code === 'E_TRUNCATED' ? ' (the file may still be being written)' : '';
    return new FormatError(code, `${code === 'E_TRUNCATED' ? 'unfinished' : 'malformed'} JSON: ${message}${hint}`, {
      ...(this.#opts.source === undefined ? {} : { source: this.#opts.source }), line, column,
    });
  }

  #facts(): TrainerStateFacts {
    const issues: ParseIssue[] = [];
    const facts: TrainerStateFacts = { summary: this.#summary, issues };
    readScalarFields(this.#root, facts, issues);
    readBestCheckpoint(this.#root, facts, issues);
    const stop = readShouldTrainingStop(this.#root.stateful_callbacks);
    if (stop !== undefined) facts.shouldTrainingStop = stop;
    if (this.#historyValue !== undefined && this.#historyValue !== null) {
      issues.push({ message: `log_history is not a list (${describe(this.#historyValue)}); no metrics read` });
    }
    issues.push(...this.#historyIssues);
    if (this.#moreHistoryIssues > 0) issues.push({ message: `${this.#moreHistoryIssues.toLocaleString('en-US')} more log_history entries had problems` });
    return facts;
  }
}

function readScalarFields(root: JsonObject, facts: TrainerStateFacts, issues: ParseIssue[]): void {
  for (const [field, prop] of NUMERIC_FIELDS) {
    const raw = root[field];
    if (raw === undefined || raw === null) continue;
    const value = asNumber(raw);
    if (value === undefined) issues.push({ message: `${field} is not a number (${describe(raw)}); ignored` });
    else facts[prop] = value;
  }
}

function readBestCheckpoint(root: JsonObject, facts: TrainerStateFacts, issues: ParseIssue[]): void {
  const raw = root.best_model_checkpoint;
  if (raw === undefined || raw === null) return;
  const path = asString(raw);
  if (path === undefined) {
    issues.push({ message: `best_model_checkpoint is not a string (${describe(raw)}); ignored` });
    return;
  }
  facts.bestModelCheckpoint = path;
  const name = lastPathSegment(path);
  if (name !== undefined) facts.bestCheckpointName = name;
}

/** Last segment of a POSIX or Windows path, ignoring trailing separators. */
export function lastPathSegment(path: string): string | undefined {
  const parts = path.split(/[\\/]+/).filter((p) => p.length > 0);
  return parts[parts.length - 1];
}

function readShouldTrainingStop(callbacks: unknown): boolean | undefined {
  if (!isJsonObject(callbacks)) return undefined;
  const control = callbacks.TrainerControl;
  if (!isJsonObject(control) || !isJsonObject(control.args)) return undefined;
  const stop = control.args.should_training_stop;
  return typeof stop === 'boolean' ? stop : undefined;
}

function numericValues(entry: JsonObject, skip: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value === 'number' && key !== skip) out[key] = value;
  }
  return out;
}
