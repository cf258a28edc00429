/**
 * The hover card from lineage graphs a real daemon returned (lineage/get, depth 2) for the
 * tiny-finetune example after `npm start`-style runs: demo-baseline and demo-higher-lr, a
 * rerun with a dirty tree, and demo-child fine-tuned from demo-baseline's checkpoint-250
 * (tagged `candidate`). Paths were rewritten from a temp dir to /home/ada/….
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LineageGraph, LineageNode } from '../../../daemon/src/protocol/index.ts';
import { HoverCommands, headline, parentRunOf, renderHoverCard, roundNumbers, runOf, shortLabel } from './hover-card.ts';
import { commandLink, mdCode, mdText } from './markdown.ts';
import { RECORDED } from '../../../test/support/fixtures.ts';

const graph = (name: string): LineageGraph => JSON.parse(readFileSync(join(RECORDED, 'lineage', `${name}.json`), 'utf8')) as LineageGraph;
const link = (cmd: string, ...args: string[]): string => `command:${cmd}?${encodeURIComponent(JSON.stringify(args))}`;

describe('hover card of a checkpoint (demo-baseline checkpoint-250)', () => {
  const g = graph('lineage-checkpoint');
  const card = renderHoverCard(g.root, g);
  const lines = card.split('\n\n');

  it('says what it is: step, kind, short hash, size, alias', () => {
    assert.equal(lines[0], '**checkpoint** `…/1/outputs/checkpoint-250` · step 250 · full · `sha256:e6012eb5ed3f` · 48.0 KB · aliases candidate');
  });

  it('says what produced it: the run and host, config, dataset versions, base model', () => {
    assert.equal(lines[1], `**From** run [demo-baseline](${link('keel.openRun', 'run_b3r6s9brn9yw')}) on local · config \`baseline.yaml\` · `
      + 'data `data/eval.jsonl` `56f7dedc`, `data/train.jsonl` `d83fdc86` · base `tiny-char-lm`');
  });

  it('says what came of it: the run fine-tuned from it, its eval run, and the eval number rounded', () => {
    assert.equal(lines[2], `**Led to** 2 runs [demo-child](${link('keel.openRun', 'run_5gvsyrkuhpem')}), `
      + `[demo-baseline-eval](${link('keel.openRun', 'run_t6h79eu35hjf')}) · evals tiny\\_reverse acc=0.9871`);
  });

  it('links Open run (its run), Show lineage and Tag (it is a checkpoint); no parent run to compare with', () => {
    assert.equal(lines[3], `[Open run](${link('keel.openRun', 'run_b3r6s9brn9yw')}) · [Show lineage](${link('keel.showLineage', 'ckpt_ybtus4925evr')}) · [Tag](${link('keel.tagCheckpoint', 'ckpt_ybtus4925evr')})`);
    assert.equal(lines.length, 4);
  });

  it('links only commands the hover trusts', () => {
    const used = [...card.matchAll(/command:([\w.]+)\?/g)].map((m) => m[1]);
    assert.ok(used.length > 0);
    for (const c of used) assert.ok((HoverCommands as readonly string[]).includes(c ?? ''), c);
  });
});

describe('hover card of a run fine-tuned from another run (demo-child)', () => {
  const g = graph('lineage-run-child');
  const lines = renderHoverCard(g.root, g).split('\n\n');

  it('shows the parent run, the dirty commit and the base checkpoint', () => {
    assert.equal(lines[0], '**run** `demo-child` · succeeded · on local');
    assert.match(lines[1] ?? '', /^\*\*From\*\* parent run \[demo-baseline\]\(command:keel\.openRun\?/);
    assert.match(lines[1] ?? '', / · code `0bd4a1af14\+dirty` · base `…\/1\/outputs\/checkpoint-250`$/);
  });

  it('counts its own checkpoints and shows its eval', () => {
    assert.equal(lines[2], `**Led to** 1 run [demo-child-eval](${link('keel.openRun', 'run_ah2wwak8gs7h')}) · 2 checkpoints · evals tiny\\_reverse acc=0.9548`);
  });

  it('offers Compare with parent: demo-baseline (which wrote its base checkpoint) against demo-child', () => {
    assert.equal(parentRunOf('run_5gvsyrkuhpem', g), 'run_b3r6s9brn9yw');
    assert.match(lines[3] ?? '', new RegExp(`\\[Compare with parent\\]\\(${link('keel.compareRuns', 'run_b3r6s9brn9yw', 'run_5gvsyrkuhpem').replace(/[?%.]/g, '\\$&')}\\)`));
  });
});

describe('hover cards of a dataset and a config', () => {
  it('a dataset: size and hash, the runs that used it (newest first, capped at 3), aliases downstream', () => {
    const g = graph('lineage-dataset');
    const lines = renderHoverCard(g.root, g).split('\n\n');
    assert.equal(lines[0], '**dataset** `data/train.jsonl` · `sha256:d83fdc86f1af` · 17.7 KB');
    assert.match(lines[1] ?? '', /^\*\*Led to\*\* 8 runs \[demo-child-eval\].*\[demo-child\].*\[demo-baseline-dirty-eval\].* and 5 more · aliases candidate$/);
    assert.equal(runOf(g.root, g), 'run_ah2wwak8gs7h');
  });

  it('a dataset: its profile warnings under the headline, the first few and a count of the rest', () => {
    const g = graph('lineage-dataset');
    const warnings = ['3 duplicate rows', '1 invalid line (first at line 7: not valid JSON)', '2 rows with an email address', '1 empty row', '1 row with an API key or token'];
    const lines = renderHoverCard(g.root, g, warnings).split('\n\n');
    assert.equal(lines[1], '⚠ 3 duplicate rows  \n⚠ 1 invalid line \\(first at line 7: not valid JSON\\)  \n⚠ 2 rows with an email address  \n⚠ 1 empty row  \nand 1 more in the Datasets view');
    assert.match(lines[2] ?? '', /^\*\*Led to\*\*/);
  });

  it('a run launched with overrides names them beside its link', () => {
    const g = graph('lineage-config');
    const run = g.descendants.find((n) => n.kind === 'run');
    assert.ok(run);
    const tuned = { ...g, descendants: g.descendants.map((n) => (n.id === run.id ? { ...n, details: { ...n.details, overrides: 'learning_rate=0.2' } } : n)) };
    assert.match(renderHoverCard(tuned.root, tuned), /\) \(learning\\_rate=0\.2\)/);
  });

  it('a config: flavor and hash, the data it names, the runs of it', () => {
    const g = graph('lineage-config');
    const lines = renderHoverCard(g.root, g).split('\n\n');
    assert.equal(lines[0], '**config** `baseline.yaml` · hf config · `sha256:c45b12f0f8db`');
    assert.equal(lines[1], '**From** data `data/train.jsonl` `d83fdc86`, `data/eval.jsonl` `56f7dedc`');
    assert.match(lines[2] ?? '', /^\*\*Led to\*\* 2 runs \[demo-baseline-dirty\].*\[demo-baseline\].* · aliases candidate$/);
  });

  it('the resolved node alone (lineage/get failed): the headline and links only', () => {
    const { node } = JSON.parse(readFileSync(join(RECORDED, 'lineage', 'resolve-checkpoint.json'), 'utf8')) as { node: LineageNode };
    const lines = renderHoverCard(node, null).split('\n\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[0], headline(node));
    assert.match(lines[1] ?? '', /^\[Open run\]\(command:keel\.openRun\?%5B%22run_b3r6s9brn9yw%22%5D\) · \[Show lineage\]/);
  });
});

describe('hover card of a deleted checkpoint and of a base model record', () => {
  it('says a checkpoint seen gone from disk is deleted and offers no Tag', () => {
    const g = graph('lineage-checkpoint');
    const root = { ...g.root, details: { ...g.root.details, deletedAt: 1_765_000_000_000 } };
    const lines = renderHoverCard(root, { ...g, root }).split('\n\n');
    assert.match(lines[0] ?? '', / · \*\*deleted from disk\*\*/);
    assert.ok(!(lines.at(-1) ?? '').includes('keel.tagCheckpoint'), 'a deleted checkpoint is never offered for tagging');
    assert.match(lines.at(-1) ?? '', /\[Show lineage\]/);
  });

  it('names a base model that is a model record (kind model), and the final model', () => {
    const g = graph('lineage-checkpoint');
    const base = g.ancestors.find((n) => n.kind === 'checkpoint' && n.label === 'tiny-char-lm');
    assert.ok(base, 'the recorded graph has a base checkpoint');
    const asModel = { ...base, kind: 'model' as const };
    const edges = g.edges.map((e) => (e.fromId === base.id ? { ...e, fromKind: 'model' as const } : e));
    const root = { ...g.root, details: { ...g.root.details, final: true } };
    const lines = renderHoverCard(root, { ...g, root, edges, ancestors: g.ancestors.map((n) => (n === base ? asModel : n)) }).split('\n\n');
    assert.match(lines[0] ?? '', / · full · final model · /);
    assert.match(lines[1] ?? '', / · base `tiny-char-lm`$/);
  });
});

describe('Markdown helpers', () => {
  it('escape what Markdown would interpret, keep code spans whole', () => {
    assert.equal(mdText('my_run [v2] *final*'), 'my\\_run \\[v2\\] \\*final\\*');
    assert.equal(mdCode('a`b'), '``a`b``');
    assert.equal(commandLink('Open [x]', 'keel.openRun', ['run_1']), '[Open \\[x\\]](command:keel.openRun?%5B%22run_1%22%5D)');
  });
  it('shorten labels and long numbers', () => {
    assert.equal(shortLabel('/home/ada/.keel/local/jobs/run_x/1/outputs/checkpoint-50'), '…/1/outputs/checkpoint-50');
    assert.equal(shortLabel('data/train.jsonl'), 'data/train.jsonl');
    assert.equal(roundNumbers('tiny_reverse acc=0.9547619047619049'), 'tiny_reverse acc=0.9548');
  });
});
