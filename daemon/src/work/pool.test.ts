import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainingConfig } from '../track/config/parse.ts';
import { ConfigInvalidError } from '../track/config/parse.ts';
import { InputFileError } from '../track/input-file.ts';
import { parseProjectFile } from '../track/project/keel-yaml.ts';
import { realFixture } from '../../../test/support/fixtures.ts';
import { writeTrainerState } from '../../../test/support/trainer-state.ts';
import { createParsePool, WorkerLimitError, type ParsePool } from './index.ts';
import { STREAM_AHEAD } from './wire.ts';

const TORCHTUNE = realFixture('torchtune', 'llama3_2_1B_lora_single_device.yaml');

/** A YAML flow list of `items` ones: a few MB of text that the yaml package needs ~1 KB of heap per item to read. */
function yamlList(items: number): string {
  return `values: [${Array.from({ length: items }, () => '1').join(', ')}]\n`;
}

describe('the parse pool', () => {
  let dir: string;
  const pools: ParsePool[] = [];
  const pool = (opts: Parameters<typeof createParsePool>[0] = {}): ParsePool => {
    const p = createParsePool(opts);
    pools.push(p);
    return p;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'keel-pool-'));
  });
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses a config in a worker started from the TypeScript sources, as the daemon thread would', async () => {
    const p = pool();
    const file = await p.parseConfigFile(TORCHTUNE);
    const here = parseTrainingConfig(readFileSync(TORCHTUNE, 'utf8'), TORCHTUNE);
    assert.deepEqual(file.parsed, here);
    assert.equal(file.text, readFileSync(TORCHTUNE, 'utf8'));
    assert.match(file.hash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(p.workers.workersStarted, 1);
  });

  it('parses keel.yaml text in a worker exactly as parseProjectFile does (the async API for the keel.yaml reader)', async () => {
    const text = 'name: demo\ndatasets: [data/*.jsonl]\nconfigs: [configs/*.yml]\ntrain:\n  command: python train.py --config {config}\n  env: {A: "1"}\nbogus: 1\n';
    const got = await pool().parseProjectFile(text, '/p/keel.yaml');
    assert.deepEqual(got, parseProjectFile(text, '/p/keel.yaml'));
    assert.ok(got.warnings.length + got.errors.length > 0, 'the unknown key is reported');
  });

  it('brings a worker\'s errors back as the classes they were thrown as', async () => {
    const p = pool();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'a: 1\nb: [unclosed\n');
    await assert.rejects(p.parseConfigFile(bad), (err: unknown) => err instanceof ConfigInvalidError && err.file === bad && err.line >= 2);
    await assert.rejects(p.parseConfigFile(dir), (err: unknown) => err instanceof InputFileError && err.reason === 'not-regular');
    assert.equal(p.workers.workersStarted, 1, 'an error is a reply, not a crash: the worker stays');
  });

  it('stops a worker that needs more memory than its limit; the task names the file and the limit, the next task gets a fresh worker', async () => {
    const p = pool({ maxOldGenerationSizeMb: 64 });
    const heavy = join(dir, 'heavy.yaml');
    writeFileSync(heavy, yamlList(500_000));
    const rss = process.memoryUsage().rss;
    await assert.rejects(p.parseConfigFile(heavy), (err: unknown) => {
      assert.ok(err instanceof WorkerLimitError, String(err));
      assert.equal(err.limit, 'memory');
      assert.ok(err.message.includes(heavy) && err.message.includes('64 MiB'), err.message);
      return true;
    });
    assert.ok(process.memoryUsage().rss - rss < 256 * 1024 * 1024, 'the memory was the worker\'s, not this thread\'s');
    assert.equal((await p.parseConfigFile(TORCHTUNE)).parsed.flavor, 'torchtune');
    assert.equal(p.workers.workersStarted, 2);
  });

  it('stops a task that runs over its time limit and answers the next one', async () => {
    const p = pool({ timeouts: { config: 300 } });
    const slow = join(dir, 'slow.yaml');
    writeFileSync(slow, yamlList(300_000));
    const t0 = performance.now();
    await assert.rejects(p.parseConfigFile(slow), (err: unknown) => err instanceof WorkerLimitError && err.limit === 'time' && err.message.includes(slow) && err.message.includes('0.3 s'));
    assert.ok(performance.now() - t0 < 5_000);
    assert.equal((await p.parseConfigFile(TORCHTUNE)).parsed.flavor, 'torchtune');
    assert.equal(p.workers.workersStarted, 2);
  });

  it('runs at most `size` workers, starting the second only when two tasks overlap', async () => {
    const p = pool({ size: 2 });
    await p.parseConfigFile(TORCHTUNE);
    await p.parseConfigFile(TORCHTUNE);
    assert.equal(p.workers.workersStarted, 1);
    await Promise.all(Array.from({ length: 6 }, () => p.parseConfigFile(TORCHTUNE)));
    assert.equal(p.workers.workersStarted, 2);
    assert.equal(p.workers.workersAlive, 2);
  });

  it('rejects running and queued tasks when closed, and every task after', async () => {
    const p = pool({ size: 1 });
    const slow = join(dir, 'slow-close.yaml');
    writeFileSync(slow, yamlList(200_000));
    const shuttingDown = (err: unknown): boolean => (err as { code?: string }).code === 'E_SHUTTING_DOWN';
    const running = assert.rejects(p.parseConfigFile(slow), shuttingDown);
    const queued = assert.rejects(p.parseConfigFile(TORCHTUNE), shuttingDown);
    await p.close();
    await Promise.all([running, queued, assert.rejects(p.parseConfigFile(TORCHTUNE), shuttingDown)]);
    assert.equal(p.workers.workersAlive, 0);
    await p.close();
  });

  it('does not keep a process alive once idle', () => {
    const script = `
      import { defaultParsePool } from ${JSON.stringify(new URL('./parse-pool.ts', import.meta.url).pathname)};
      const file = await defaultParsePool().parseConfigFile(${JSON.stringify(TORCHTUNE)});
      console.log(file.parsed.flavor);
    `;
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'torchtune');
    assert.ok(performance.now() - t0 < 15_000, 'the process exited by itself');
  });
  it('streams batches in order, one handled at a time, and answers only once every batch was handled', async () => {
    const file = join(dir, 'ahead-trainer_state.json');
    writeTrainerState(file, { entries: 2_000, keys: ['loss'] });
    const p = pool();
    const firstSteps: number[] = [];
    let inHandler = 0;
    let most = 0;
    let points = 0;
    let doneHandling = false;
    const read = await p.streamTrainerState(file, async (batch) => {
      most = Math.max(most, ++inHandler);
      firstSteps.push(batch.step[0] as number);
      await new Promise((r) => setTimeout(r, 3));
      points += batch.key.length;
      inHandler--;
      doneHandling = true;
    }, 100);
    assert.ok(doneHandling && inHandler === 0, 'every batch was handled before the result came');
    assert.equal(most, 1, 'one batch at a time');
    assert.equal(points, read.points);
    assert.equal(points, 2_000);
    assert.ok(firstSteps.length >= 10, `${firstSteps.length} batches`);
    assert.deepEqual(firstSteps, [...firstSteps].sort((a, b) => a - b), 'in file order');
  });

  it('reads ahead while a batch is handled: the next batches wait in hand, never more than STREAM_AHEAD', async () => {
    const file = join(dir, 'read-ahead-trainer_state.json');
    writeTrainerState(file, { entries: 3_000, keys: ['loss'] });
    const p = pool();
    const steps: number[] = [];
    const read = await p.streamTrainerState(file, async (batch) => {
      steps.push(...batch.step);
      // A slow writer: the worker has time to read the next batches meanwhile.
      await new Promise((r) => setTimeout(r, 15));
    }, 100);
    const most = p.workers.mostBatchesWaiting;
    assert.ok(most >= 2, `the worker read on while a batch was written (at most ${most} batch(es) in hand)`);
    assert.ok(most <= STREAM_AHEAD, `${most} batches in hand, over the bound of ${STREAM_AHEAD}`);
    assert.equal(read.points, 3_000);
    assert.deepEqual(steps, Array.from({ length: 3_000 }, (_, i) => i + 1), 'every point once, in file order');
  });

  it('stops a stream at the batch whose handler failed: no later batch is handed over, and the task rejects with that error', async () => {
    const file = join(dir, 'stop-trainer_state.json');
    writeTrainerState(file, { entries: 2_000, keys: ['loss'] });
    let calls = 0;
    const failure = new Error('disk full');
    await assert.rejects(pool().streamTrainerState(file, async () => {
      if (++calls === 3) throw failure;
      await new Promise((r) => setTimeout(r, 3));
    }, 100), (err: unknown) => err === failure);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls, 3);
  });
});
