/**
 * Precise data lineage: a run is linked "trained on" exactly the datasets its config names,
 * "evaluated on" its validation data, and only when the config names none does it keep the
 * datasets shipped with it, as `shipped_data`. Every project dataset used to be linked as a
 * training input (a config naming only data/train.jsonl was "trained on" data/eval.jsonl too).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Run } from '../protocol/index.ts';
import { EdgeTypes } from '../store/index.ts';
import { linkRunData, RUN_DATA_EDGES } from './data-edges.ts';
import { useTempStore } from '../../../test/support/temp-store.ts';

describe('linkRunData', () => {
  const { dir: tmp, store } = useTempStore('keel-data-edges-');
  let projectId: string;
  const versions: Record<string, string> = {};
  before(() => {
    mkdirSync(join(tmp, 'data'));
    projectId = store.projects.upsert(tmp, 'p', {}, []).project.id;
    for (const name of ['train', 'eval']) {
      const rel = `data/${name}.jsonl`;
      writeFileSync(join(tmp, rel), '{"text": "a"}\n');
      const ds = store.datasets.ensure({ projectId, path: rel, absPath: join(tmp, rel), kind: 'file' });
      const hash = `sha256:${name === 'train' ? 'a' : 'b'}${'0'.repeat(63)}`;
      versions[name] = store.datasets.addVersion(ds.id, { hash, sizeBytes: 14, fileCount: 1, profile: null, files: [{ path: `${name}.jsonl`, size: 14, hash }] }).version.id;
    }
  });

  /** A launched run shipped with both datasets (what the launch copies to the host). */
  function shippedRun(name: string): Run {
    const run = store.runs.create({ projectId, source: 'launch', kind: 'train', name });
    for (const id of Object.values(versions)) store.lineage.addEdge({ kind: 'dataset_version', id }, { kind: 'run', id: run.id }, EdgeTypes.ShippedData);
    return run;
  }
  const dataEdges = (run: Run): [string, string][] => store.lineage.incoming({ kind: 'run', id: run.id })
    .filter((e) => RUN_DATA_EDGES.includes(e.type)).map((e): [string, string] => [e.fromId, e.type]).sort();
  const named = (refs: { path: string; role?: 'train' | 'val' }[]): { refs: typeof refs; dir: string; root: string } => ({ refs, dir: join(tmp, 'configs'), root: tmp });

  it('links only the data the config names, as trained on', async () => {
    const run = shippedRun('only-train');
    await linkRunData(store, run, named([{ path: 'data/train.jsonl', role: 'train' }]));
    assert.deepEqual(dataEdges(run), [[versions.train, EdgeTypes.UsedData]]);
  });

  it('links validation data as evaluated on', async () => {
    const run = shippedRun('train-and-val');
    await linkRunData(store, run, named([{ path: 'data/train.jsonl', role: 'train' }, { path: 'data/eval.jsonl', role: 'val' }]));
    assert.deepEqual(dataEdges(run), [[versions.train, EdgeTypes.UsedData], [versions.eval, EdgeTypes.EvaluatedOn]].sort());
  });

  it('falls back to the shipped datasets, as shipped_data, only when the config names none', async () => {
    const run = shippedRun('names-none');
    await linkRunData(store, run, named([]));
    assert.deepEqual(dataEdges(run), Object.values(versions).map((id): [string, string] => [id, EdgeTypes.ShippedData]).sort());
  });
});
