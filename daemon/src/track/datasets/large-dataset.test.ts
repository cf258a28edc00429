import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../store/index.ts';
import { createHashPool } from '../hash/index.ts';
import type { DatasetProfile } from '../profile/types.ts';
import { trackDataset } from './track-dataset.ts';

const ROWS = 400_000;

/** Writes ~100 MB of JSONL (every 10th row a duplicate of row 0) without holding it in memory. */
async function writeJsonl(path: string): Promise<void> {
  const out = createWriteStream(path);
  const filler = 'x'.repeat(100);
  for (let i = 0; i < ROWS; i++) {
    const id = i % 10 === 9 ? 0 : i;
    const line = `{"id": ${id}, "prompt": "question ${id} ${filler}", "completion": "answer ${id} ${filler}"}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('a ~100 MB JSONL dataset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-large-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is hashed and profiled in bounded memory', async () => {
    const file = join(dir, 'big.jsonl');
    await writeJsonl(file);
    // Written an hour ago, as a real dataset would be: the check-hash after profiling then
    // comes from the cache (a file written within 2 s is read again: see hashTree's racy window).
    utimesSync(file, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const size = statSync(file).size;
    assert.ok(size > 95_000_000 && size < 110_000_000, `size ${size}`);
    const store = new Store(join(dir, 'keel.db'));
    const pool = createHashPool();
    const project = store.projects.upsert(dir, 'big', {}, []).project;
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const started = performance.now();
    let reports = 0;
    try {
      const tracked = await trackDataset({ store, hasher: pool, hashCache: store.fileHashes, onProgress: () => reports++ }, { id: project.id, root: dir }, file);
      const ms = performance.now() - started;
      peak = Math.max(peak, process.memoryUsage().rss);
      const profile = tracked.version?.profile as DatasetProfile;
      assert.equal(tracked.version?.sizeBytes, size);
      assert.equal(profile.rows, ROWS);
      assert.equal(profile.duplicateRows, ROWS / 10);
      assert.equal(profile.invalidLineCount, 0);
      assert.equal(pool.bytesRead, size);
      const deltaMiB = (peak - rssBefore) / 2 ** 20;
      console.log(`# ${(size / 1e6).toFixed(1)} MB JSONL: tracked in ${ms.toFixed(0)} ms, peak RSS delta ${deltaMiB.toFixed(1)} MiB, ${reports} progress reports, pool read ${(pool.bytesRead / 1e6).toFixed(1)} MB`);
      // Hashing streams 4 MiB chunks in a worker and profiling 1 MiB chunks: far below the file size.
      assert.ok(deltaMiB < 150, `peak RSS grew ${deltaMiB.toFixed(1)} MiB`);
    } finally {
      clearInterval(sampler);
      await pool.close();
      store.close();
    }
  });
});
