import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParsePool, WorkerLimitError, type ParsePool } from '../../work/index.ts';
import { InputFileError } from '../input-file.ts';
import { valueAt, writeTrainerState } from '../../../../test/support/trainer-state.ts';
import { parseTrainerState } from './trainer-state.ts';
import type { PointBatch } from './trainer-state-file.ts';
import { FormatError } from './types.ts';

describe('trainer_state.json streamed from a parse worker', () => {
  let dir: string;
  let pool: ParsePool;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'keel-ts-file-'));
    // A small heap: the whole-file parser needs several times the file's size, the stream one batch.
    pool = createParsePool({ size: 1, maxOldGenerationSizeMb: 48 });
  });
  after(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a 75 MB file through a 48 MiB worker heap in ordered batches, one at a time, each acknowledged before the next', async () => {
    const file = join(dir, 'big.json');
    const entries = 500_000;
    const size = writeTrainerState(file, { entries, keys: ['grad_norm', 'learning_rate', 'loss'], nanEvery: 1000, finished: true });
    let points = 0;
    let busy = false;
    let overlaps = 0;
    let nextStep = 1;
    let ordered = true;
    let maxBatch = 0;
    const sample = new Map<string, number>();
    const read = await pool.streamTrainerState(file, async (batch: PointBatch) => {
      if (busy) overlaps++;
      busy = true;
      maxBatch = Math.max(maxBatch, batch.key.length);
      for (let i = 0; i < batch.key.length; i++) {
        const step = batch.step[i] as number;
        if (step < nextStep) ordered = false;
        nextStep = step;
        if (step === 250_000 || step === 3000) sample.set(`${batch.keys[batch.key[i] as number]}@${step}`, batch.value[i] as number);
      }
      points += batch.key.length;
      await new Promise((r) => setImmediate(r));
      busy = false;
    }, 5_000);
    assert.ok(size > 70e6, `${size} bytes`);
    assert.deepEqual([points, read.points, overlaps, ordered], [entries * 3, entries * 3, 0, true]);
    assert.ok(maxBatch <= 5_000);
    assert.deepEqual([read.globalStep, read.maxSteps, read.shouldTrainingStop, read.lastStep], [entries, entries, true, entries]);
    assert.deepEqual(read.summary, { epoch: entries / 1000, total_flos: 1.5e17, train_loss: 0.75, train_runtime: 3600.5 });
    assert.equal(sample.get('loss@250000'), valueAt('loss', 250_000));
    assert.ok(Number.isNaN(sample.get('grad_norm@3000')), 'Python NaN arrives as NaN');
    assert.equal(read.bytes, size);
  });

  it('gives the whole-file parser\'s points for a generated file', async () => {
    const file = join(dir, 'small.json');
    writeTrainerState(file, { entries: 2_000, keys: ['epoch', 'grad_norm', 'loss'], nanEvery: 7, finished: true });
    const got: { step: number; key: string; value: number }[] = [];
    await pool.streamTrainerState(file, (b) => {
      for (let i = 0; i < b.key.length; i++) got.push({ step: b.step[i] as number, key: b.keys[b.key[i] as number] as string, value: b.value[i] as number });
      return Promise.resolve();
    }, 1_000);
    assert.deepEqual(got, parseTrainerState(readFileSync(file, 'utf8')).points);
  });

  it('refuses a file cut short before reading it, a FIFO without hanging, and reports a broken one at its line', async () => {
    const none = (): Promise<void> => Promise.resolve();
    const cut = join(dir, 'cut.json');
    writeTrainerState(cut, { entries: 1_000 });
    truncateSync(cut, 30_000);
    let batches = 0;
    await assert.rejects(pool.streamTrainerState(cut, () => Promise.resolve(void batches++)), (err: unknown) => err instanceof FormatError && err.code === 'E_TRUNCATED' && err.message.includes('without its closing'));
    assert.equal(batches, 0, 'nothing of a cut file is used');
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(pool.streamTrainerState(fifo, none), (err: unknown) => err instanceof InputFileError && err.reason === 'not-regular');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "log_history": [\n    {"loss": 1, "step": 1},\n    {"loss": 2 "step": 2}\n  ]\n}\n');
    await assert.rejects(pool.streamTrainerState(broken, none), (err: unknown) => err instanceof FormatError && err.code === 'E_MALFORMED' && err.line === 4);
  });

  it('stops the worker when a batch handler throws, and reads the next file with the same pool', async () => {
    const file = join(dir, 'stop.json');
    writeTrainerState(file, { entries: 20_000 });
    let calls = 0;
    await assert.rejects(pool.streamTrainerState(file, () => {
      calls++;
      throw new Error('disk full');
    }, 1_000), /disk full/);
    assert.equal(calls, 1, 'no batch after the one that failed');
    const small = join(dir, 'after.json');
    writeTrainerState(small, { entries: 10 });
    assert.equal((await pool.streamTrainerState(small, () => Promise.resolve())).points, 20);
  });

  it('reads global_step without reading log_history, and stops a stream that goes silent', async () => {
    const file = join(dir, 'step.json');
    writeTrainerState(file, { entries: 100_000 });
    assert.equal(await pool.readTrainerStateNumber(file, 'global_step'), 100_000);
    assert.equal(await pool.readTrainerStateNumber(file, 'max_steps'), 100_000);
    const slow = createParsePool({ size: 1, timeouts: { trainerStateBatch: 1 } });
    try {
      await assert.rejects(slow.streamTrainerState(file, () => Promise.resolve()), (err: unknown) => err instanceof WorkerLimitError && err.limit === 'time' && err.message.includes('without progress'));
    } finally {
      await slow.close();
    }
  });
});
