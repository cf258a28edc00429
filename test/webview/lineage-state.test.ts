/**
 * The lineage graph layout (from the daemon's own lineage graphs of the fixture runs), the
 * panel state kept across reloads, and the checks on incoming host messages.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LineageGraph, LineageNode } from '../../daemon/src/protocol/index.ts';
import type { ComparePanelState, WebviewToHost } from '../../daemon/src/protocol/webview.ts';
import { crossings, layoutLineage, mergeGraphs, NodeSize } from '../../webview/src/lineage-graph.ts';
import { fitText, labelContext, nodeCaption, nodeTitle } from '../../webview/src/lineage-labels.ts';
import { fitTitle } from '../../webview/src/lineage-view.ts';
import { parseHostMessage } from '../../webview/src/messages.ts';
import { initialState, PanelState, parsePanelState } from '../../webview/src/state.ts';
import { manyRuns, twoRuns, type ManyRuns, type TwoRuns } from './fixtures.ts';

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
    assert.equal(layout.width, 2 * NodeSize.pad + 4 * NodeSize.width + 3 * NodeSize.gapX);
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

  it('names nodes as people tell them apart: run name, checkpoint-N with its run, eval task names', () => {
    const { nodes, edges } = mergeGraphs(graphs);
    const ctx = labelContext(nodes, edges);
    const lora = nodes.find((n) => n.kind === 'run' && n.id === f.lora.id);
    assert.ok(lora);
    assert.equal(nodeTitle(lora), 'lora-1b');
    assert.equal(nodeCaption(lora, ctx), 'run · running');
    const ckpt = nodes.find((n) => n.kind === 'checkpoint' && n.details.step === 200);
    assert.ok(ckpt);
    assert.equal(nodeTitle(ckpt), 'checkpoint-200', `not a path cut from the left: ${ckpt.label}`);
    assert.equal(nodeCaption(ckpt, ctx), 'lora-1b · step 200');
    const data = nodes.find((n) => n.kind === 'dataset_version');
    assert.equal(data && nodeCaption(data, ctx), 'dataset · sha256:1f0c5e0a');
    const arc = nodes.find((n) => n.kind === 'eval' && n.label === 'arc_challenge-v0-res.json');
    assert.ok(arc);
    assert.equal(nodeTitle(arc), 'arc_challenge', 'task names, not the file name');
    assert.equal(nodeCaption(arc, ctx), 'eval · acc 0.2448 · 2 results');
    const qwen = nodes.find((n) => n.kind === 'eval' && /^results_2026/.test(n.label));
    assert.ok(qwen && /^negotiationtom, negotiationtom_belief, /.test(nodeTitle(qwen)), qwen && nodeTitle(qwen));
    assert.equal(qwen && fitTitle(nodeTitle(qwen)), 'negotiationtom +3 more');
    assert.equal(fitText('sweep-learning-rate-0.0002-warmup-100', 20), 'sweep-lear…armup-100');
  });
});

describe('lineage of a sweep (61 nodes)', () => {
  let f: ManyRuns;
  let layout: ReturnType<typeof layoutLineage>;
  let merged: ReturnType<typeof mergeGraphs>;
  before(() => {
    f = manyRuns(7);
    merged = mergeGraphs(f.lineage.map((l) => l.graph).filter((g): g is LineageGraph => g !== null));
    layout = layoutLineage(merged.nodes, merged.edges);
  });
  after(() => f.close());

  it('points every edge right: an eval job sits after the checkpoint it measures', () => {
    assert.equal(layout.nodes.length, 61);
    const at = new Map(layout.nodes.map((p) => [p.key, p]));
    const left = layout.edges.filter((e) => (at.get(e.from)?.column ?? 0) >= (at.get(e.to)?.column ?? 0)).map((e) => `${e.from} → ${e.to}`);
    assert.deepEqual(left, []);
    const column = (kind: string): number[] => [...new Set(layout.nodes.filter((p) => p.node.kind === kind && !(kind === 'checkpoint' && p.node.details.runId === null)).map((p) => p.column))];
    assert.deepEqual([column('dataset_version'), column('config'), column('checkpoint'), column('eval')], [[0], [0], [2], [4]]);
  });

  it('never overlaps two nodes, and keeps each run\'s checkpoints together beside it', () => {
    const { width: W, height: H } = NodeSize;
    for (const a of layout.nodes) {
      for (const b of layout.nodes) {
        if (a === b) continue;
        const overlap = a.x < b.x + W && b.x < a.x + W && a.y < b.y + H && b.y < a.y + H;
        assert.ok(!overlap, `${a.key} overlaps ${b.key}`);
      }
    }
    const ckpts = layout.nodes.filter((p) => p.node.kind === 'checkpoint' && p.node.details.runId !== null).sort((a, b) => a.y - b.y);
    const order = ckpts.map((p) => p.node.details.runId);
    const blocks = order.filter((r, i) => i === 0 || r !== order[i - 1]);
    assert.equal(blocks.length, 7, `one block of checkpoints per run: ${order.join(' ')}`);
    // Past the inputs (every run reads both datasets: those edges must cross), no edge crosses another.
    const col = new Map(layout.nodes.map((p) => [p.key, p.column]));
    const rows = new Map(layout.nodes.map((p) => [p.key, p.y]));
    const downstream = merged.edges.filter((e) => (col.get(`${e.fromKind}:${e.fromId}`) ?? 0) >= 1);
    assert.equal(crossings(rows, col, downstream), 0);
  });

  it('fits every label on its node without cutting it', () => {
    const cut = layout.nodes.map((p) => fitTitle(nodeTitle(p.node))).filter((t) => t.includes('…'));
    assert.deepEqual(cut, []);
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
    assert.equal(parsePanelState({ ...base, selectedNode: 'checkpoint:ckpt_1' })?.selectedNode, 'checkpoint:ckpt_1');
    assert.equal(parsePanelState({ ...base, selectedNode: 7 })?.selectedNode, undefined);
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
    assert.ok('message' in parseHostMessage({ type: 'lineage', runId: f.lora.id, graph: f.lineage[0]?.graph, focus: { kind: 'run', id: f.lora.id } }));
    assert.ok('error' in parseHostMessage({ type: 'lineage', runId: f.lora.id, graph: f.lineage[0]?.graph, focus: 'run' }));
    assert.deepEqual(parseHostMessage({ type: 'seriesAppend', runId: 'r' }), { error: 'malformed or unknown message "seriesAppend"' });
    assert.deepEqual(parseHostMessage({ type: 'explode' }), { error: 'malformed or unknown message "explode"' });
    assert.deepEqual(parseHostMessage('init'), { error: 'not a message' });
  });
});
