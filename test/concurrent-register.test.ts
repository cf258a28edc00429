/**
 * Twenty clients register the same folder at once. Each registration (re)starts the
 * project's watcher; when those raced, a replaced watcher was never closed and its
 * fs.watch handles kept the daemon process alive after `daemon/shutdown`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { TestHome, waitFor } from './support/keel-home.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('20 concurrent registrations of one folder', () => {
  const h = new TestHome('keel-concurrent-register-');
  after(() => h.cleanup());

  it('leave one watcher, and the daemon process exits within seconds of daemon/shutdown', async () => {
    const root = join(h.dir, 'racy project');
    mkdirSync(join(root, 'configs'), { recursive: true });
    mkdirSync(join(root, 'data'), { recursive: true });
    writeFileSync(join(root, 'keel.yaml'), 'name: racy\ndatasets:\n  - data/*\nconfigs:\n  - configs/*.yaml\n');
    h.keelJson(['daemon', 'start']);
    const pid = h.daemonPid();
    assert.ok(pid !== undefined && alive(pid));
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => KeelClient.connect({ socketPath: h.socket, client: { name: `racer-${i}`, version: '0' } })));
    const results = await Promise.all(clients.map((c) => c.call('projects/register', { root })));
    assert.equal(new Set(results.map((r) => r.project.id)).size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
    // Watching works after the race: a config written now is tracked.
    const config = join(root, 'configs', 'lr.yaml');
    writeFileSync(config, 'learning_rate: 0.0002\n');
    await waitFor(async () => (await clients[0]?.call('lineage/resolve', { ref: config }))?.node?.kind === 'config', 20_000, 'the config to be tracked');
    await clients[0]?.call('daemon/shutdown', {});
    clients.forEach((c) => c.close());
    const started = Date.now();
    await waitFor(() => !alive(pid), 5_000, `daemon pid ${pid} to exit after daemon/shutdown`);
    console.log(`# daemon exited ${Date.now() - started} ms after daemon/shutdown`);
    assert.equal(h.integrity(), 'ok');
  });
});
