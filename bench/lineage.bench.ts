/**
 * `lineage/get` of a record with a big neighbourhood — a dataset version 500 runs trained on,
 * each with a checkpoint (the walk stops at 500 nodes) — against the walk alone (its one
 * recursive query) on the same store, in turn: describing the nodes should cost about what
 * finding them does, not a query or two per node. Prints figures, asserts none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineageGraph } from '../daemon/src/lineage/graph.ts';
import { Store } from '../daemon/src/store/index.ts';
import { fmt, median } from './support.ts';

const RUNS = 500;
const REPEAT = 21;

const dir = mkdtempSync(join(tmpdir(), 'keel-bench-lineage-'));
const store = new Store(join(dir, 'keel.db'));
const ds = store.datasets.ensure({ projectId: null, path: 'data/train.jsonl', absPath: '/p/data/train.jsonl', kind: 'file' });
const version = store.datasets.addVersion(ds.id, { hash: `sha256:${'b'.repeat(64)}`, sizeBytes: 1, fileCount: 1, profile: null, files: [] }).version;
for (let r = 0; r < RUNS; r++) {
  const run = store.runs.create({ projectId: null, source: 'launch', name: `run-${r}`, status: 'succeeded', launch: { kind: 'train', overrides: [`learning_rate=${r}e-6`] } });
  store.lineage.addEdge({ kind: 'dataset_version', id: version.id }, { kind: 'run', id: run.id }, 'trained_on');
  const c = store.checkpoints.upsert({ location: `/p/outputs/run-${r}/checkpoint-100`, kind: 'full', runId: run.id, step: 100 }).checkpoint;
  store.lineage.addEdge({ kind: 'run', id: run.id }, { kind: 'checkpoint', id: c.id }, 'produced');
}
const ref = { kind: 'dataset_version' as const, id: version.id };
const graph: number[] = [];
const walk: number[] = [];
let nodes = 0;
for (let i = 0; i < REPEAT; i++) {
  let t0 = performance.now();
  store.lineage.walk(ref, 'up', 10);
  store.lineage.walk(ref, 'down', 10);
  walk.push(performance.now() - t0);
  t0 = performance.now();
  nodes = lineageGraph(store, ref.kind, ref.id)?.descendants.length ?? 0;
  graph.push(performance.now() - t0);
}
store.close();
rmSync(dir, { recursive: true, force: true });
console.log(`lineage/get of a dataset ${RUNS} runs trained on (${nodes} nodes described), median of ${REPEAT}: ${fmt(median(graph))} ms; the two walks alone ${fmt(median(walk))} ms → ${fmt(median(graph) / median(walk))}x`);
