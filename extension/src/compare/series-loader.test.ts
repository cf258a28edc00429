/**
 * The curve loader with a scripted daemon: init carries the first key, the rest stream key
 * by key, and live notifications (the real ones in test/fixtures/recorded/compare/live-notifications.json) become
 * seriesAppend only for curves on screen — held, not lost, while their curve loads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostToWebview, NotificationOf, RunComparison, SeriesPayload } from '../../../daemon/src/protocol/index.ts';
import { INIT_KEYS, initialKeys, seriesToFetch } from './keys.ts';
import { SeriesLoader } from './series-loader.ts';
import { RECORDED } from '../../../test/support/fixtures.ts';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(RECORDED, 'compare', name), 'utf8')) as T;
const comparison = fixture<RunComparison>('compare-three.json');
const live = fixture<{ runId: string; metrics: NotificationOf['metrics'][] }>('live-notifications.json');
const note = (key: string, runId = live.runId): NotificationOf['metrics'] => ({ ...(live.metrics.find((m) => m.key === key) as NotificationOf['metrics']), runId });

/** A loader whose daemon answers each fetch when the test says so. */
function harness() {
  const posted: HostToWebview[] = [];
  const fetched: string[] = [];
  const waiting = new Map<string, () => void>();
  const loader = new SeriesLoader({
    fetch: async (runId, key, maxPoints) => {
      fetched.push(`${runId}/${key}@${maxPoints}`);
      await new Promise<void>((r) => waiting.set(`${runId}/${key}`, r));
      return { runId, key, points: [{ step: 1, value: 1, wallTime: null }], total: 1, downsampled: false } satisfies SeriesPayload;
    },
    post: (m) => posted.push(m),
    onError: (m) => assert.fail(m),
    maxPoints: () => 2000,
  });
  const answer = async (runId: string, key: string): Promise<void> => {
    for (let i = 0; i < 50 && !waiting.has(`${runId}/${key}`); i++) await new Promise((r) => setImmediate(r));
    const release = waiting.get(`${runId}/${key}`);
    assert.ok(release, `a fetch of ${runId}/${key} is waiting`);
    waiting.delete(`${runId}/${key}`);
    release();
    await new Promise((r) => setImmediate(r));
  };
  return { loader, posted, fetched, answer };
}

describe('SeriesLoader', () => {
  const [BASE, HIGH, CHILD] = comparison.runs.map((r) => r.id) as [string, string, string];

  it('init gets the first key of every run; the other keys stream one key at a time, most relevant first', async () => {
    const { loader, posted, fetched, answer } = harness();
    const keys = initialKeys(comparison, [], 3);
    const init = loader.fetchForInit(seriesToFetch(comparison, keys.slice(0, INIT_KEYS)));
    for (const id of [BASE, HIGH, CHILD]) await answer(id, 'loss');
    assert.deepEqual((await init).map((s) => `${s.runId}/${s.key}`), [`${BASE}/loss`, `${HIGH}/loss`, `${CHILD}/loss`]);
    loader.adopt([BASE, HIGH, CHILD], await init);
    const stream = loader.stream(seriesToFetch(comparison, keys.slice(INIT_KEYS)));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(fetched.slice(3), [`${BASE}/eval_loss@2000`, `${HIGH}/eval_loss@2000`, `${CHILD}/eval_loss@2000`]);
    for (const id of [BASE, HIGH, CHILD]) await answer(id, 'eval_loss');
    for (const id of [BASE, HIGH, CHILD]) await answer(id, 'eval_accuracy');
    await stream;
    // One message per key with every run's curve: the webview redraws once per key.
    assert.deepEqual(posted.map((m) => (m.type === 'seriesBatch' ? m.series.map((c) => `${c.runId}/${c.key}`) : m.type)), [
      [`${BASE}/eval_loss`, `${HIGH}/eval_loss`, `${CHILD}/eval_loss`], [`${BASE}/eval_accuracy`, `${HIGH}/eval_accuracy`, `${CHILD}/eval_accuracy`],
    ]);
    assert.equal(loader.shown.shows(CHILD, 'eval_accuracy'), true);
  });

  it('forwards live points only for curves on screen, and holds those that arrive while their curve loads', async () => {
    const { loader, posted, answer } = harness();
    const init = loader.fetchForInit([{ runId: live.runId, key: 'loss' }]);
    await answer(live.runId, 'loss');
    loader.adopt([live.runId, BASE], await init);
    loader.onMetrics(note('loss'));
    loader.onMetrics(note('train_loss'));
    loader.onMetrics(note('loss', CHILD));
    assert.deepEqual(posted.map((m) => m.type), ['seriesAppend']);
    assert.ok(posted[0]?.type === 'seriesAppend' && posted[0].points.length === 25);

    const zoom = loader.load(live.runId, 'eval_loss', 500, { fromStep: 100, toStep: 200 });
    loader.onMetrics(note('eval_loss'));
    assert.equal(posted.length, 1, 'held while the curve loads');
    await answer(live.runId, 'eval_loss');
    await zoom;
    assert.deepEqual(posted.slice(1).map((m) => m.type), ['series', 'seriesAppend']);
  });

  it('starts a curve for a run that begins logging a key another run shows', async () => {
    const { loader, posted, fetched, answer } = harness();
    const init = loader.fetchForInit([{ runId: BASE, key: 'eval_loss' }]);
    await answer(BASE, 'eval_loss');
    loader.adopt([live.runId, BASE], await init);
    loader.onMetrics(note('eval_loss'));
    assert.deepEqual(fetched.at(-1), `${live.runId}/eval_loss@2000`);
    await answer(live.runId, 'eval_loss');
    // The daemon stored those points before it told us, so the fetched curve already has them.
    assert.deepEqual(posted.map((m) => m.type), ['series']);
    assert.equal(loader.shown.shows(live.runId, 'eval_loss'), true);
  });

  it('a newer init stops an older stream, and its late answers are dropped', async () => {
    const { loader, posted, answer } = harness();
    loader.reset([BASE]);
    const stream = loader.stream([{ runId: BASE, key: 'loss' }, { runId: BASE, key: 'eval_loss' }]);
    loader.reset([BASE]);
    await answer(BASE, 'loss');
    await stream;
    assert.deepEqual(posted, []);
  });
});
