/**
 * The daemon answers its first requests before its features are loaded (server/features.ts:
 * tracking, dispatch and their methods, dist/keel-daemon-features.js), then loads them on the
 * first request that needs one or shortly after it listens. Held back here with
 * KEEL_FEATURES_AFTER_MS, a feature request waits for them and is answered as before (with
 * the tracker and dispatcher they made: a project registered by the first request is
 * watched); the features start on their own (a registered project's new run is recorded without any
 * request); a daemon stopped before they load stops cleanly; and the two bundles share their
 * modules rather than carrying two copies (one RpcError class: a feature's error keeps its code).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { RpcError } from '../daemon/src/protocol/index.ts';
import { fixturesRoot, repoRoot, TestHome, waitFor } from './support/keel-home.ts';

type LogLine = Record<string, unknown> & { msg: string };
/** The daemon's log as it stands (complete lines only: it is polled while the daemon writes). */
const logLines = (h: TestHome): LogLine[] => h.daemonLogLines<LogLine>();
const featureStarts = (h: TestHome): LogLine[] => logLines(h).filter((l) => l.msg === 'daemon features started');

/** The Keel modules a bundle holds (esbuild marks each with a `// daemon/src/…` line). */
const modulesOf = (file: string): Set<string> =>
  new Set(readFileSync(join(repoRoot, 'dist', file), 'utf8').split('\n').filter((l) => /^\/\/ daemon\/src\/\S+\.ts$/.test(l)).map((l) => l.slice(3)));

describe('the daemon features, loaded after the socket listens', () => {
  const homes: TestHome[] = [];
  const home = (env: Record<string, string> = {}): TestHome => {
    const h = new TestHome('keel-feat-', env);
    homes.push(h);
    return h;
  };
  after(() => {
    for (const h of homes) {
      assert.equal(h.integrity(), 'ok');
      h.cleanup();
    }
  });
  const connect = (h: TestHome): Promise<KeelClient> => KeelClient.connect({ socketPath: h.socket, client: { name: 'test', version: '0' } });

  it('are a bundle of their own that takes every shared module from the daemon bundle', () => {
    const daemon = modulesOf('keel-daemon.js');
    const features = modulesOf('keel-daemon-features.js');
    assert.ok(daemon.has('daemon/src/store/index.ts') && daemon.has('daemon/src/server/server.ts'), 'the first bundle answers requests from the store');
    for (const late of ['daemon/src/server/features.ts', 'daemon/src/track/tracker.ts', 'daemon/src/dispatch/dispatcher.ts']) {
      assert.ok(features.has(late), `${late} is in the features bundle`);
      assert.ok(!daemon.has(late), `${late} is not in the daemon bundle`);
    }
    const twice = [...features].filter((m) => daemon.has(m));
    assert.deepEqual(twice, [], 'no module is in both bundles');
    assert.match(readFileSync(join(repoRoot, 'dist', 'keel-daemon-features.js'), 'utf8'), /require\("\.\/keel-daemon\.js"\)\.__keelModules\["daemon\/src\/store\/index\.ts"\]/);
  });

  it('a feature request before they are loaded waits for them and is answered; so are others at once', async () => {
    const h = home({ KEEL_FEATURES_AFTER_MS: '600000' });
    h.keelJson(['daemon', 'start']);
    const c = await connect(h);
    try {
      assert.ok((await c.call('daemon/status', {})).pid > 0);
      assert.equal(featureStarts(h).length, 0, 'the daemon answers its own methods without its features');
      const [runs, projects, hosts] = await Promise.all([c.call('runs/list', {}), c.call('projects/list', {}), c.call('hosts/list', {})]);
      assert.deepEqual(runs.runs, []);
      assert.deepEqual(projects.projects, []);
      assert.ok(hosts.hosts.some((x) => x.name === 'local'), JSON.stringify(hosts.hosts));
      const starts = featureStarts(h);
      assert.equal(starts.length, 1, 'loaded once for the three requests');
      assert.equal(starts[0]?.trigger, 'request');
      // A feature's error keeps its code: the features use the daemon bundle's RpcError, not a copy.
      await assert.rejects(c.call('runs/get', { run: 'no-such-run' }), (e: unknown) => e instanceof RpcError && e.code === 'E_NOT_FOUND');
    } finally {
      c.close();
    }
    h.keel(['daemon', 'stop']);
  });

  it('a feature method that is the first request runs with what the features made: the project it registers is watched', async () => {
    const h = home({ KEEL_FEATURES_AFTER_MS: '600000' });
    const root = join(h.dir, 'project');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'keel.yaml'), ['name: registered-early', 'outputs:', '  - outputs/*', ''].join('\n'));
    h.keelJson(['daemon', 'start']);
    assert.equal(featureStarts(h).length, 0);
    // projects/register waits for the features, then hands the project to their tracker.
    h.keelJson(['init', root]);
    assert.deepEqual(featureStarts(h).map((l) => l.trigger), ['request']);
    cpSync(join(fixturesRoot, 'trainer_state', 'interrupted-trl-sft-peft_fine-tune-ai-model', 'fine_tuned_model'), join(root, 'outputs', 'run-1'), { recursive: true });
    await waitFor(() => h.keelJson<{ runs: { outputDir: string | null }[] }>(['runs']).runs.some((r) => r.outputDir?.endsWith('run-1')), 30_000, 'the tracker to record the new run');
    assert.equal(logLines(h).filter((l) => l.msg === 'cannot watch project').length, 0);
    h.keel(['daemon', 'stop']);
  });

  it('start on their own: a registered project is watched without any request', async () => {
    const h = home();
    const root = join(h.dir, 'project');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'keel.yaml'), ['name: watched', 'outputs:', '  - outputs/*', ''].join('\n'));
    h.keelJson(['init', root]);
    h.keel(['daemon', 'stop']);
    // While no daemon runs, the trainer writes its output folder.
    cpSync(join(fixturesRoot, 'trainer_state', 'interrupted-trl-sft-peft_fine-tune-ai-model', 'fine_tuned_model'), join(root, 'outputs', 'run-1'), { recursive: true });
    const before = featureStarts(h).length;
    h.keelJson(['daemon', 'start']);
    await waitFor(() => featureStarts(h).length > before, 15_000, 'the features to start');
    assert.equal(featureStarts(h).at(-1)?.trigger, 'timer');
    await waitFor(() => h.keelJson<{ runs: { outputDir: string | null }[] }>(['runs']).runs.some((r) => r.outputDir?.endsWith('run-1')), 30_000, 'the new run to be recorded');
    h.keel(['daemon', 'stop']);
  });

  it('a daemon stopped before its features load stops cleanly', () => {
    const h = home({ KEEL_FEATURES_AFTER_MS: '600000' });
    h.keelJson(['daemon', 'start']);
    const stop = h.keel(['daemon', 'stop']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(featureStarts(h).length, 0);
    assert.deepEqual(logLines(h).filter((l) => l.msg === 'stopped').map((l) => l.exitCode), [0]);
    assert.ok(!existsSync(h.socket) && !existsSync(join(h.home, 'daemon.lock')), 'socket and lock removed');
  });
});
