import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REAL_FIXTURES } from '../../../../test/support/fixtures.ts';
import { parseTolerantJson } from './tolerant-json.ts';
import { TrainerStateReader, type TrainerStateFacts } from './trainer-state-stream.ts';
import { FormatError, isJsonObject } from './types.ts';

interface Point { step: number; key: string; value: number }

/**
 * The whole-file parser this reader replaced (formats/trainer-state.ts before streaming),
 * reduced to its points and summary: the reference the streaming reader must match.
 */
function wholeFileReference(text: string): { points: Point[]; summary: Record<string, number>; globalStep?: number } {
  const root = parseTolerantJson(text) as Record<string, unknown>;
  const byStepKey = new Map<string, Point>();
  let summary: Record<string, number> = {};
  for (const entry of (root.log_history ?? []) as unknown[]) {
    if (!isJsonObject(entry)) continue;
    if ('train_runtime' in entry) {
      summary = Object.fromEntries(Object.entries(entry).filter(([k, v]) => typeof v === 'number' && k !== 'step')) as Record<string, number>;
      continue;
    }
    const step = entry.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) continue;
    for (const [key, value] of Object.entries(entry)) {
      if (key === 'step' || typeof value !== 'number') continue;
      const id = `${step}\u0000${key}`;
      const existing = byStepKey.get(id);
      if (existing) existing.value = value;
      else byStepKey.set(id, { step, key, value });
    }
  }
  return { points: [...byStepKey.values()], summary, ...(typeof root.global_step === 'number' ? { globalStep: root.global_step } : {}) };
}

/** Feeds `text` in pieces of `size` characters; points in file order, upserted as the store would. */
function stream(text: string, size: number, source = 'trainer_state.json'): { points: Point[]; facts: TrainerStateFacts; reader: TrainerStateReader } {
  const byStepKey = new Map<string, Point>();
  const reader = new TrainerStateReader({
    source,
    onPoint: (step, key, value) => {
      const existing = byStepKey.get(`${step}\u0000${key}`);
      if (existing) existing.value = value;
      else byStepKey.set(`${step}\u0000${key}`, { step, key, value });
    },
  });
  for (let i = 0; i < text.length; i += size) reader.push(text.slice(i, i + size));
  return { points: [...byStepKey.values()], facts: reader.end(), reader };
}

function realTrainerStates(dir = join(REAL_FIXTURES, 'trainer_state')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return realTrainerStates(path);
    return name === 'trainer_state.json' ? [path] : [];
  });
}

function thrown(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FormatError) return err;
    throw err;
  }
  assert.fail('expected a FormatError');
}

describe('the streaming trainer_state reader', () => {
  it('gives the same points, summary and global step as the whole-file parser for every real file, whatever the piece size', () => {
    const files = realTrainerStates();
    assert.equal(files.length, 8);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const expected = wholeFileReference(text);
      for (const size of [1, 7, 4096, text.length]) {
        const got = stream(text, size);
        const where = `${relative(REAL_FIXTURES, file)} in pieces of ${size}`;
        assert.deepEqual(got.points, expected.points, where);
        assert.deepEqual(got.facts.summary, expected.summary, where);
        assert.equal(got.facts.globalStep, expected.globalStep, where);
      }
    }
  });

  it('reads Python literals, escapes and backslash runs split at every position', () => {
    const text = [
      '{"best_model_checkpoint": "C:\\\\out\\\\\\"q\\"\\\\checkpoint-2\\\\", "log_history": [',
      '  {"loss": NaN, "grad_norm": Infinity, "eval_loss": -Infinity, "note": "a\\\\\\\\\\"}]", "step": 1},',
      '  {"loss": 1e-3, "x\\"y": -0.5, "\\u00e9t\\u00e9": 2, "step": 2},',
      '  {"train_runtime": 1.5, "train_loss": NaN, "step": 2}',
      '], "global_step": 2, "max_steps": 2}',
    ].join('\n');
    const expected = wholeFileReference(text);
    for (const size of [1, 2, 3, 5]) {
      const got = stream(text, size);
      assert.deepEqual(got.points, expected.points, `pieces of ${size}`);
      assert.equal(got.facts.bestCheckpointName, 'checkpoint-2');
      assert.equal(got.facts.bestModelCheckpoint, 'C:\\out\\"q"\\checkpoint-2\\');
      assert.ok(Number.isNaN(got.facts.summary.train_loss));
    }
    assert.deepEqual(stream(text, 1).points.map((p) => p.key), ['loss', 'grad_norm', 'eval_loss', 'loss', 'x"y', 'été']);
  });

  it('calls every cut-short prefix unfinished (read again later), never broken', () => {
    const text = readFileSync(join(REAL_FIXTURES, 'trainer_state', 'oldest-schema-sagemaker_bart-large-cnn-samsum', 'trainer_state.json'), 'utf8')
      .replace('"loss": 1.2342', '"loss": NaN, "grad_norm": -Infinity');
    const end = text.trimEnd().length;
    for (let cut = 0; cut < end; cut++) {
      const err = thrown(() => stream(text.slice(0, cut), 64));
      assert.equal(err.code, 'E_TRUNCATED', `cut at ${cut}: ${err.message}`);
    }
    assert.equal(stream(text, 64).points.length, 4);
  });

  it('places a mistake at its line and column in the file, whatever the piece size', () => {
    const text = '{\n  "global_step": 3,\n  "log_history": [\n    {"loss": 1.0, "step": 1},\n    {"loss": 2.0,, "step": 2}\n  ]\n}\n';
    for (const size of [1, 9, text.length]) {
      const err = thrown(() => stream(text, size, 'run/trainer_state.json'));
      assert.deepEqual([err.code, err.line, err.column], ['E_MALFORMED', 5, 18], `pieces of ${size}: ${err.message}`);
      assert.ok(err.message.startsWith('run/trainer_state.json: malformed JSON'));
    }
    const stray = thrown(() => stream('{"log_history": [{"step": 1, "loss": 1}] }} ', 3));
    assert.deepEqual([stray.code, stray.line, stray.column], ['E_MALFORMED', 1, 43]);
  });

  it('refuses one value larger than its cap, and survives 100,000 nested brackets in an entry', () => {
    const reader = new TrainerStateReader({ maxValueChars: 1000 });
    assert.throws(() => {
      reader.push('{"log_history": [{"step": 1, "note": "');
      for (let i = 0; i < 10; i++) reader.push('x'.repeat(200));
    }, (err: unknown) => err instanceof FormatError && err.code === 'E_MALFORMED' && /a single value longer than/.test(err.message));
    const deep = `{"log_history": [${'['.repeat(100_000)}${']'.repeat(100_000)}, {"loss": 1, "step": 1}]}`;
    const got = stream(deep, 4096);
    assert.deepEqual(got.points, [{ step: 1, key: 'loss', value: 1 }]);
    assert.deepEqual(got.facts.issues.map((i) => i.message), ['log_history[0] is not an object; skipped']);
  });

  it('stops at a top-level key when asked, without reading log_history', () => {
    const reader = new TrainerStateReader({ skipHistory: true, stopAfterKey: 'global_step' });
    reader.push('{"epoch": 3.0, "global_step": 4200, "log_history": [');
    assert.equal(reader.stopped, true);
    for (let i = 0; i < 1000; i++) reader.push('{"loss": 1, "step": 1}, ');
    assert.deepEqual([reader.end().globalStep, reader.points], [4200, 0]);
    const last = new TrainerStateReader({ skipHistory: true, stopAfterKey: 'global_step' });
    last.push('{"log_history": [{"loss": 1, "step": 1}, "x\\"]"], "global_step": 7}');
    assert.deepEqual([last.end().globalStep, last.points], [7, 0]);
  });

  it('counts problems past the first hundred instead of listing them', () => {
    const entries = Array.from({ length: 250 }, () => '{"loss": 1}');
    const got = stream(`{"log_history": [${entries.join(', ')}]}`, 1000);
    assert.equal(got.facts.issues.length, 101);
    assert.equal(got.facts.issues.at(-1)?.message, '150 more log_history entries had problems');
  });
});
