/**
 * The lineage graph layout (from the daemon's own lineage graphs of the fixture runs), the
 * panel state kept across reloads, and the checks on incoming host messages.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LineageGraph, LineageNode } from '../../daemon/src/protocol/index.ts';
import type { ComparePanelState, WebviewToHost } from '../../daemon/src/protocol/webview.ts';
import { layoutLineage, mergeGraphs, nodeCaption, NodeSize } from '../../webview/src/lineage-graph.ts';
import { parseHostMessage } from '../../webview/src/messages.ts';
import { initialState, PanelState, parsePanelState } from '../../webview/src/state.ts';
import { twoRuns, type TwoRuns } from './fixtures.ts';

describe('lineage graph', () => {
  let f: TwoRuns;
  let graphs: LineageGraph[];
  before(() => {
    f = twoRuns();
    graphs = f.lineage.map((l) => l.graph).filter((g): g is LineageGraph => g !== null);
  });
  after(() => f.close());

  it('merges the runs\' graphs, sharing the dataset version both runs trained on', () => {
    const { nodes, edges } = mergeGraphs(graphs);
    const count = (kind: string): number => nodes.filter((n) => n.kind === kind).length;
    assert.deepEqual([count('dataset_version'), count('config'), count('run'), count('checkpoint'), count('eval')], [1, 2, 2, 2, 3]);
    assert.equal(edges.length, 9); // 2 used_data, 2 used_config, 2 produced, 3 evaluated
    assert.deepEqual(nodes.filter((n) => n.kind === 'config').map((n) => n.label).sort(), ['llama-3_fft-8b.yaml', 'llama-3_lora-1b.yml']);
  });

  it('lays out datasets and configs → runs → checkpoints → evals, left to right', () => {
    const { nodes, edges } = mergeGraphs(graphs);
    const layout = layoutLineage(nodes, edges);
    const col = (kind: string): number[] => [...new Set(layout.nodes.filter((p) => p.node.kind === kind).map((p) => p.column))];
    assert.deepEqual([col('dataset_version'), col('config'), col('run'), col('checkpoint'), col('eval')], [[0], [0], [1], [2], [3]]);
    const first = layout.nodes.filter((p) => p.column === 0).sort((a, b) => a.y - b.y);
    assert.equal(first[0]?.node.kind, 'dataset_version');
    assert.equal(layout.width, 2 * NodeSize.pad + 4 * NodeSize.width + 3 * NodeSize.gapX); // 976
    assert.equal(layout.height, 2 * NodeSize.pad + 3 * NodeSize.height + 2 * NodeSize.gapY); // 166
    assert.equal(layout.edges.length, 9);
    // Every edge runs from a left column to a right one.
    const at = new Map(layout.nodes.map((p) => [p.key, p]));
    assert.ok(layout.edges.every((e) => (at.get(e.from)?.column ?? 0) < (at.get(e.to)?.column ?? 0)));
  });

  it('puts a base-model checkpoint that feeds a run among the inputs', () => {
    const node = (kind: LineageNode['kind'], id: string): LineageNode => ({ kind, id, label: id, details: {} });
    const nodes = [node('checkpoint', 'base'), node('run', 'r'), node('checkpoint', 'out')];
    const edges = [
      { fromKind: 'checkpoint' as const, fromId: 'base', toKind: 'run' as const, toId: 'r', type: 'base_model' },
      { fromKind: 'run' as const, fromId: 'r', toKind: 'checkpoint' as const, toId: 'out', type: 'produced' },
    ];
    const layout = layoutLineage(nodes, edges);
    assert.deepEqual(layout.nodes.map((p) => [p.node.id, p.column]), [['base', 0], ['r', 1], ['out', 2]]);
  });

  it('captions nodes with their kind and one telling fact', () => {
    const { nodes } = mergeGraphs(graphs);
    const lora = nodes.find((n) => n.kind === 'run' && n.id === f.lora.id);
    assert.equal(lora && nodeCaption(lora), 'run · running');
    const ckpt = nodes.find((n) => n.kind === 'checkpoint' && n.details.step === 200);
    assert.equal(ckpt && nodeCaption(ckpt), 'checkpoint · step 200');
    const data = nodes.find((n) => n.kind === 'dataset_version');
    assert.equal(data && nodeCaption(data), 'dataset · sha256:1f0c5e0a');
    const arc = nodes.find((n) => n.kind === 'eval' && n.label === 'arc_challenge-v0-res.json');
    assert.equal(arc && nodeCaption(arc), 'eval · arc_challenge acc=0.2448');
  });
});

describe('panel state', () => {
  const base: ComparePanelState = { runIds: ['a', 'b'], xAxis: 'step', smoothing: 0, logScale: false, showAllParams: false, baselineRunId: 'a', selectedKeys: [] };

  it('reads back a saved state and rejects anything else', () => {
    assert.deepEqual(parsePanelState({ ...base, smoothing: 0.6, section: 'evals' }), { ...base, smoothing: 0.6, section: 'evals' });
    assert.equal(parsePanelState(null), null);
    assert.equal(parsePanelState({ ...base, xAxis: 'wall' }), null);
    assert.equal(parsePanelState({ ...base, runIds: 'a' }), null);
    assert.equal(parsePanelState({ ...base, smoothing: 7 })?.smoothing, 0.99);
    assert.equal(parsePanelState({ ...base, section: 'nope' })?.section, undefined);
  });

  it('prefers what the webview saved for the same runs, and keeps the baseline among the runs', () => {
    const saved = { ...base, logScale: true, runIds: ['b', 'a'] };
    assert.equal(initialState(saved, base, ['a', 'b']).logScale, true);
    assert.equal(initialState({ ...saved, runIds: ['a', 'c'] }, base, ['a', 'b']).logScale, false);
    assert.equal(initialState(null, { ...base, baselineRunId: 'gone' }, ['a', 'b']).baselineRunId, 'a');
  });

  it('saves every change and posts stateChanged only for the user\'s', () => {
    const posted: WebviewToHost[] = [];
    const savedStates: unknown[] = [];
    const s = new PanelState({ setState: (x) => savedStates.push(x), postMessage: (m) => posted.push(m) }, base);
    assert.equal(s.update({ logScale: true }, true), true);
    assert.deepEqual(posted, [{ type: 'stateChanged', state: { ...base, logScale: true } }]);
    assert.equal(s.update({ logScale: true }, true), false, 'no change, no message');
    s.update({ runIds: ['a'] }, false);
    assert.equal(posted.length, 1);
    assert.equal(savedStates.length, 2);
  });
});

describe('host messages', () => {
  let f: TwoRuns;
  before(() => {
    f = twoRuns();
  });
  after(() => f.close());

  it('accepts what the host sends and drops what it does not', () => {
    const init = parseHostMessage(JSON.parse(JSON.stringify(f.init)));
    assert.ok('message' in init && init.message.type === 'init');
    assert.ok('message' in parseHostMessage({ type: 'seriesAppend', runId: f.lora.id, key: 'loss', points: [] }));
    assert.ok('message' in parseHostMessage({ type: 'lineage', runId: f.lora.id, graph: f.lineage[0]?.graph }));
    assert.deepEqual(parseHostMessage({ type: 'seriesAppend', runId: 'r' }), { error: 'malformed or unknown message "seriesAppend"' });
    assert.deepEqual(parseHostMessage({ type: 'explode' }), { error: 'malformed or unknown message "explode"' });
    assert.deepEqual(parseHostMessage('init'), { error: 'not a message' });
  });
});
