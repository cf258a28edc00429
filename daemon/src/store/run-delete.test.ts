/**
 * Deleting a run on a real keel.db: every row that hangs off it goes, in one transaction;
 * another run's rows stay; children lose their parent; the database stays consistent. An
 * active run and a run whose checkpoint an alias points at are refused with a next step;
 * a deleted run's output folder is remembered until it is imported again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RunNotDeletableError, Store } from './index.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

interface Seeded { runId: string; checkpointIds: string[]; jobId: string }

/** A run with a bit of everything: params, two series, checkpoints, evals, edges, events, a job, cursors. */
function seedRun(store: Store, name: string, parentRunId: string | null = null): Seeded {
  const host = store.hosts.get('gpu1') ?? store.hosts.add({ name: 'gpu1', backend: 'ssh', sshTarget: 'gpu1', workdir: '~/.keel' });
  const run = store.runs.create({ projectId: null, name, source: 'watch', status: 'running', outputDir: `/out/${name}`, parentRunId });
  store.runs.setStatus(run.id, 'succeeded');
  store.runLinks.setParams(run.id, { lr: 0.1, name });
  store.metrics.record(run.id, Array.from({ length: 50 }, (_, i) => ({ key: i % 2 ? 'loss' : 'lr', step: i, value: 1 / (i + 1) })));
  const checkpointIds = [100, 200].map((step) => store.checkpoints.upsert({ location: `/out/${name}/checkpoint-${step}`, kind: 'full', runId: run.id, step }).checkpoint.id);
  for (const id of checkpointIds) store.lineage.addEdge({ kind: 'run', id: run.id }, { kind: 'checkpoint', id }, 'produced');
  store.lineage.addEdge({ kind: 'dataset_version', id: `dsv_${name}` }, { kind: 'run', id: run.id }, 'used_data');
  store.lineage.addEdge({ kind: 'checkpoint', id: checkpointIds[0] ?? '' }, { kind: 'eval', id: `evg_${name}` }, 'evaluated');
  store.evals.upsert({ subjectKind: 'checkpoint', subjectId: checkpointIds[1] ?? null, sourcePath: `/r/${name}/a.json`, task: 'arc', metric: 'acc', value: 0.5, stderr: null });
  store.evals.upsert({ subjectKind: 'run', subjectId: run.id, sourcePath: `/r/${name}/b.json`, task: 'hellaswag', metric: 'acc', value: 0.4, stderr: null });
  store.events.add({ kind: 'loss_nan', severity: 'warning', runId: run.id, message: 'NaN' });
  const job = store.jobs.create({ runId: run.id, backend: 'ssh', hostId: host.id, jobDirFor: (n) => `/j/${name}/${n}`, gpuIds: [] });
  store.cursors.put(`run:${run.id}`, '/out/trainer_state.json', { byteOffset: 1 });
  store.cursors.put(`job:${job.id}`, 'logs/run.log', { byteOffset: 2 });
  return { runId: run.id, checkpointIds, jobId: job.id };
}

/** How many rows of each kind refer to a seeded run. */
function rowsOf(db: Database.Database, s: Seeded): Record<string, number> {
  const count = (sql: string, ...args: unknown[]): number => db.prepare(sql).pluck().get(...args) as number;
  const ckpts = `(${s.checkpointIds.map(() => '?').join(',')})`;
  return {
    runs: count('SELECT count(*) FROM runs WHERE id = ?', s.runId),
    params: count('SELECT count(*) FROM run_params WHERE run_id = ?', s.runId),
    series: count('SELECT count(*) FROM metric_series WHERE run_id = ?', s.runId),
    points: count('SELECT count(*) FROM metrics WHERE series_id IN (SELECT id FROM metric_series WHERE run_id = ?)', s.runId),
    checkpoints: count(`SELECT count(*) FROM checkpoints WHERE id IN ${ckpts}`, ...s.checkpointIds),
    edges: count(`SELECT count(*) FROM lineage_edges WHERE (from_kind = 'run' AND from_id = ?) OR (to_kind = 'run' AND to_id = ?) OR from_id IN ${ckpts} OR to_id IN ${ckpts}`, s.runId, s.runId, ...s.checkpointIds, ...s.checkpointIds),
    evals: count(`SELECT count(*) FROM evals WHERE subject_id = ? OR subject_id IN ${ckpts}`, s.runId, ...s.checkpointIds),
    events: count('SELECT count(*) FROM events WHERE run_id = ?', s.runId),
    jobs: count('SELECT count(*) FROM jobs WHERE run_id = ?', s.runId),
    cursors: count('SELECT count(*) FROM cursors WHERE owner IN (?, ?)', `run:${s.runId}`, `job:${s.jobId}`),
  };
}

describe('deleting a run', () => {
  const { file, store } = useTempStore('keel-delete-', { closeFirst: () => raw.close() });
  let raw: Database.Database;
  before(() => {
    raw = new Database(file, { readonly: true });
  });

  it('removes everything that hangs off the run and nothing of another run', () => {
    const doomed = seedRun(store, 'doomed');
    const kept = seedRun(store, 'kept');
    const child = store.runs.create({ projectId: null, name: 'child', source: 'launch', parentRunId: doomed.runId });
    const keptBefore = rowsOf(raw, kept);
    assert.ok(Object.values(rowsOf(raw, doomed)).every((n) => n > 0), 'the run has rows of every kind');

    const r = store.runs.delete(doomed.runId, { tombstone: true });
    assert.deepEqual(r.removed, {
      metricPoints: 50, metricSeries: 2, params: 2, events: 1, cursors: 2, jobs: 1, lineageEdges: 4, evals: 2, checkpoints: 2, childrenUnlinked: 1, blobs: 0,
    });
    assert.deepEqual(Object.entries(rowsOf(raw, doomed)).filter(([, n]) => n > 0), [], 'no row of the deleted run is left');
    assert.deepEqual(rowsOf(raw, kept), keptBefore, 'the other run is untouched');
    assert.equal(store.runs.summary(child.id)?.parentRunId, null, 'its child lives on without a parent');
    assert.equal(store.runs.get(doomed.runId), undefined);
    assert.equal(store.runs.find(doomed.runId.slice(0, 10)), undefined);
    assert.equal(store.integrityCheck(), 'ok');
    assert.deepEqual(raw.pragma('foreign_key_check'), []);
  });

  it('reclaims the blobs its launch spec named once nothing else names them', () => {
    const blob = (text: string): string => store.blobs.put(text);
    const own = blob('learning_rate: 0.1 # only the first run');
    const shared = blob('manifest shared by two runs');
    const configText = 'learning_rate: 0.2 # a config record';
    const config = store.configs.record({ hash: 'sha256:' + 'c'.repeat(64), format: 'yaml', flavor: 'unknown', text: configText, params: {}, projectId: null, absPath: '/w/c.yaml' }).config;
    const configBlob = blob(configText);
    const launch = (effective: string): unknown => ({ effectiveConfigHash: effective, code: { snapshotHash: shared, patchHash: null } });
    const first = store.runs.create({ projectId: null, name: 'blob-1', source: 'launch', status: 'succeeded', launch: launch(own) });
    const second = store.runs.create({ projectId: null, name: 'blob-2', source: 'launch', status: 'succeeded', launch: { ...launch(configBlob) as object, configId: config.id } });
    assert.equal(store.runs.delete(first.id).removed.blobs, 1, 'its own effective config');
    assert.equal(store.blobs.has(own), false);
    assert.equal(store.blobs.has(shared), true, 'the other run still names the manifest');
    assert.equal(store.runs.delete(second.id).removed.blobs, 1, 'the manifest, not the config record\'s text');
    assert.equal(store.blobs.has(shared), false);
    assert.equal(store.blobs.has(configBlob), true, 'a config record keeps its text');
    assert.equal(store.configs.content(config.id), configText);
  });

  it('refuses an active run with the next step, unless forced', () => {
    const s = seedRun(store, 'busy');
    const busy = store.runs.create({ projectId: null, name: 'queued-one', source: 'launch' });
    assert.throws(() => store.runs.delete(busy.id), (e: unknown) =>
      e instanceof RunNotDeletableError && e.reason === 'active' && e.message.includes(`keel cancel ${busy.id}`) && e.message.includes('queued'));
    assert.ok(store.runs.get(busy.id), 'still there');
    store.runs.delete(busy.id, { force: true });
    assert.equal(store.runs.get(busy.id), undefined);
    store.runs.delete(s.runId);
  });

  it('refuses while a model alias points at one of its checkpoints, even forced, naming the alias', () => {
    const s = seedRun(store, 'tagged');
    store.models.tag(null, 'prod', s.checkpointIds[1] ?? '');
    assert.throws(() => store.runs.delete(s.runId, { force: true }), (e: unknown) =>
      e instanceof RunNotDeletableError && e.reason === 'aliased' && /"prod" → ckpt_\w+ \(step 200\)/.test(e.message) && e.message.includes('keel tag CHECKPOINT ALIAS'));
    assert.equal(rowsOf(raw, s).points, 50, 'nothing was removed');
    const other = seedRun(store, 'other');
    store.models.tag(null, 'prod', other.checkpointIds[0] ?? '');
    assert.equal(store.runs.delete(s.runId).removed.checkpoints, 2, 'once the alias moved on, it goes');
  });

  it('remembers the output folder of a deleted run until an explicit import', () => {
    const s = seedRun(store, 'watched');
    assert.equal(store.runs.delete(s.runId, { tombstone: true }).tombstone, '/out/watched');
    assert.equal(store.runs.isDeletedOutput('/out/watched'), true);
    assert.equal(store.runs.deletedOutput('/out/watched')?.runId, s.runId);
    store.runs.ensureForOutputDir({ projectId: null, source: 'watch', outputDir: '/out/elsewhere' });
    assert.equal(store.runs.isDeletedOutput('/out/watched'), true, 'other folders do not clear it');
    const { created } = store.runs.ensureForOutputDir({ projectId: null, source: 'import', outputDir: '/out/watched' });
    assert.equal(created, true);
    assert.equal(store.runs.isDeletedOutput('/out/watched'), false, 'an import clears it');
  });
});

describe('interrupted imports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-import-state-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('marks a run incomplete while an import runs, and finds it after a restart', () => {
    const file = join(dir, 'keel.db');
    let store = new Store(file);
    const { run } = store.runs.ensureForOutputDir({ projectId: null, source: 'import', status: 'running', outputDir: "/data/it's here" });
    assert.equal(store.runs.beginImport(run.id).status, 'incomplete');
    assert.equal(store.runs.get(run.id)?.statusReason, 'import in progress');
    const finished = store.runs.ensureForOutputDir({ projectId: null, source: 'import', status: 'running', outputDir: '/data/done' }).run;
    store.runs.beginImport(finished.id);
    assert.equal(store.runs.finishImport(finished.id).status, 'running');
    store.close();

    store = new Store(file);
    const interrupted = store.runs.interruptedImports();
    assert.deepEqual(interrupted.map((r) => [r.id, r.status, r.statusReason]), [
      [run.id, 'incomplete', "import interrupted; run `keel import '/data/it'\\''s here'` again"],
    ]);
    assert.deepEqual(store.runs.interruptedImports(), [], 'each is reported once');
    assert.equal(store.runs.beginImport(run.id).statusReason, 'import in progress', 'importing again resumes it');
    assert.equal(store.runs.finishImport(run.id).status, 'running');
    store.runs.setStatus(run.id, 'succeeded');
    assert.equal(store.runs.beginImport(run.id).status, 'succeeded', 'a finished run stays finished');
    store.close();
  });
});
