/**
 * Which data a run used, exactly. A run is linked as "trained on" (`used_data`) the tracked
 * datasets its config names as training data (Axolotl `datasets[].path`, HF/TRL `train_file`
 * / `dataset_name`, torchtune `dataset.source` / `data_files`), as "evaluated on"
 * (`evaluated_on`) those it names as validation data (`validation_file`, Axolotl
 * `test_datasets`, torchtune `dataset_val`) and the data its eval results name. Only when none
 * is named does a launched run keep the datasets Keel shipped with it, as `shipped_data` —
 * an edge kind that says it is a fallback, not a claim the run read them.
 *
 * The version linked is the one shipped with the run when there is one (what it really read),
 * else the version the config referenced when it was recorded, else the latest.
 */
import type { Run } from '../protocol/index.ts';
import { EdgeTypes, type Store } from '../store/index.ts';
import { existingPaths } from './config/track-config.ts';
import type { DatasetRef } from './config/types.ts';

/** Every edge type a dataset version → run edge can have; linkRunData owns them all. */
export const RUN_DATA_EDGES: readonly string[] = [EdgeTypes.UsedData, EdgeTypes.EvaluatedOn, EdgeTypes.ShippedData];

/** What the run's config names, and where its relative paths start. */
export interface NamedData {
  refs: readonly DatasetRef[];
  /** The config file's folder. */
  dir: string;
  /** The project root. */
  root: string;
}

type DataEdge = { from: { kind: 'dataset_version'; id: string }; type: string };

/**
 * Sets the run's data edges (see the module comment). `named` is null when the run's config is
 * unknown: then a watched run's edges are left as they are (nothing to judge them by).
 */
export async function linkRunData(store: Store, run: Run, named: NamedData | null): Promise<void> {
  const runRef = { kind: 'run' as const, id: run.id };
  const shipped = store.lineage.incoming(runRef).filter((e) => e.fromKind === 'dataset_version' && RUN_DATA_EDGES.includes(e.type)).map((e) => e.fromId);
  const fromConfig = named === null ? [] : await configData(store, run, named, shipped);
  const fromEvals = evalData(store, run.id);
  let edges = [...fromConfig, ...fromEvals];
  if (edges.length === 0) {
    if (named === null && run.source !== 'launch') return;
    edges = shipped.map((id) => ({ from: { kind: 'dataset_version', id }, type: EdgeTypes.ShippedData }));
  }
  const unique = new Map(edges.map((e) => [`${e.from.id}:${e.type}`, e]));
  store.lineage.replaceIncoming(runRef, RUN_DATA_EDGES, [...unique.values()]);
}

/** Versions of the tracked datasets the config names, typed by their role. */
async function configData(store: Store, run: Run, named: NamedData, shipped: readonly string[]): Promise<DataEdge[]> {
  const shippedByDataset = new Map<string, string>();
  for (const id of shipped) {
    const v = store.datasets.version(id);
    if (v) shippedByDataset.set(v.datasetId, v.id);
  }
  const referenced = new Map<string, string>();
  if (run.configId) {
    for (const e of store.lineage.incoming({ kind: 'config', id: run.configId })) {
      const v = e.type === EdgeTypes.References && e.fromKind === 'dataset_version' ? store.datasets.version(e.fromId) : undefined;
      if (v) referenced.set(v.datasetId, v.id);
    }
  }
  const edges: DataEdge[] = [];
  for (const ref of named.refs) {
    for (const abs of await existingPaths(ref.path, named.dir, named.root)) {
      const dataset = store.datasets.findContaining(abs)?.dataset;
      const version = dataset && (shippedByDataset.get(dataset.id) ?? referenced.get(dataset.id) ?? store.datasets.latestVersion(dataset.id)?.id);
      if (!version) continue;
      edges.push({ from: { kind: 'dataset_version', id: version }, type: ref.role === 'val' ? EdgeTypes.EvaluatedOn : EdgeTypes.UsedData });
      break;
    }
  }
  return edges;
}

/** Data the run's own eval results name (dataset version → eval, for evals the run produced). */
function evalData(store: Store, runId: string): DataEdge[] {
  const edges: DataEdge[] = [];
  for (const produced of store.lineage.outgoing({ kind: 'run', id: runId })) {
    if (produced.toKind !== 'eval' || produced.type !== EdgeTypes.Produced) continue;
    for (const e of store.lineage.incoming({ kind: 'eval', id: produced.toId })) {
      if (e.fromKind === 'dataset_version' && e.type === EdgeTypes.EvaluatedOn) edges.push({ from: { kind: 'dataset_version', id: e.fromId }, type: EdgeTypes.EvaluatedOn });
    }
  }
  return edges;
}
