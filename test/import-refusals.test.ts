/**
 * `keel import` records a run nothing can delete, after walking the folder: it refuses the
 * file-system root, the kernel's folders, Keel's own home and the folders around it, and a
 * folder with nothing a trainer writes — each with a message that says what to do.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestHome } from './support/keel-home.ts';

describe('keel import refuses folders that are not a training run', () => {
  const h = new TestHome('keel-import-refusals-');
  before(() => {
    h.keelJson(['daemon', 'start']);
  });
  after(() => {
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('refuses /, /proc, /sys, /dev, KEEL_HOME, a folder around it and one inside it, quickly, and records nothing', () => {
    mkdirSync(join(h.home, 'inside'), { recursive: true });
    const cases: [string, RegExp][] = [
      ['/', /\/ is the root of the file system; it cannot be a run folder: Keel would read every file on the machine/],
      ['/proc', /\/proc is inside \/proc, a virtual file system of the kernel; it cannot be a run folder/],
      ['/proc/self', /is inside \/proc, a virtual file system of the kernel/],
      ['/sys', /\/sys is inside \/sys/],
      ['/dev', /\/dev is inside \/dev/],
      [h.home, /holds Keel's own home \(KEEL_HOME=.*\); it cannot be a run folder/],
      [h.dir, /holds Keel's own home/],
      [join(h.home, 'inside'), /is inside Keel's own home \(KEEL_HOME=.*\); it cannot be a run folder/],
    ];
    for (const [dir, want] of cases) {
      const started = Date.now();
      const r = h.keel(['import', dir], { timeoutMs: 20_000 });
      assert.equal(r.code, 1, `${dir}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, want, dir);
      assert.match(r.stderr, /Import the output folder of one training run \(its output_dir\)/);
      assert.ok(Date.now() - started < 15_000, `${dir} answered in ${Date.now() - started} ms`);
    }
    assert.deepEqual(h.keelJson<{ runs: unknown[] }>(['runs']).runs, []);
  });

  it('refuses a folder that does not look like training output, saying what Keel looks for', () => {
    const data = join(h.dir, 'just data');
    mkdirSync(join(data, 'deep', 'er'), { recursive: true });
    writeFileSync(join(data, 'train.jsonl'), '{"text": "hi"}\n');
    const r = h.keel(['import', data]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /just data does not look like a training output folder: Keel looks for trainer_state\.json, checkpoint-N\/ \(or epoch_N\/, last-checkpoint\/\), metrics\.jsonl, TensorBoard event files/);
    assert.match(r.stderr, /Point `keel import` at the folder your trainer wrote \(its output_dir\)\./);
    writeFileSync(join(data, 'deep', 'er', 'events.out.tfevents.1.host'), '');
    const ok = h.keelJson<{ runId: string }>(['import', data]);
    assert.match(ok.runId, /^run_/);
  });
});
