/**
 * How the Models view reads: each alias names its checkpoint and the run that made it (by
 * the run's name, not its id), history rows say what the alias pointed at before, and Roll
 * Back picks the previous checkpoint, not the current one again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Checkpoint, ModelAliasInfo } from '../../../daemon/src/protocol/index.ts';
import { aliasDescription, aliasTooltip, historyLabel, previousTarget } from './model-labels.ts';

const now = 1_800_000_000_000;
const checkpoint = (id: string, step: number, run: string): Checkpoint => ({
  id, runId: run, step, location: `/p/outputs/${run}/checkpoint-${step}`, hash: 'sha256:ab12', sizeBytes: 49_152, kind: 'adapter', baseModel: 'sshleifer/tiny-gpt2', createdAt: now - 7_200_000,
});
const alias = (history: ModelAliasInfo['history'], current: Checkpoint | null): ModelAliasInfo => ({ alias: 'prod', projectId: 'p1', checkpoint: current, updatedAt: now - 7_200_000, history });

describe('Models view rows', () => {
  it('name the checkpoint and the run that made it, by name', () => {
    const m = alias([{ checkpointId: 'ck2', previousCheckpointId: null, at: now - 7_200_000, note: null }], checkpoint('ck2', 250, 'run_abc'));
    assert.equal(aliasDescription(m, 'baseline · lr=0.1', now), '→ step 250 · baseline · lr=0.1 · adapter · 49.2 KB · 2 h ago');
    assert.equal(aliasDescription(m, null, now), '→ step 250 · run_abc · adapter · 49.2 KB · 2 h ago', 'the id when the name is unknown');
    assert.equal(aliasDescription(alias([], null), null, now), '→ (checkpoint gone)');
    const tip = aliasTooltip(m, 'baseline · lr=0.1');
    assert.match(tip, /^prod → \/p\/outputs\/run_abc\/checkpoint-250$/m);
    assert.match(tip, /made by run baseline · lr=0\.1/);
    assert.match(tip, /base model: sshleifer\/tiny-gpt2/);
  });

  it('say what an alias pointed at before, and Roll Back restores the one before the current', () => {
    const history = [
      { checkpointId: 'ck1', previousCheckpointId: null, at: now - 3_000, note: null },
      { checkpointId: 'ck2', previousCheckpointId: 'ck1', at: now - 2_000, note: 'promoted from candidate' },
      { checkpointId: 'ck3', previousCheckpointId: 'ck2', at: now - 1_000, note: null },
    ];
    assert.equal(previousTarget(alias(history, checkpoint('ck3', 300, 'r3'))), 'ck2');
    // Rolled back to ck2 (a new entry pointing at it): the one before is ck3, the last move.
    assert.equal(previousTarget(alias([...history, { checkpointId: 'ck2', previousCheckpointId: 'ck3', at: now, note: 'rolled back' }], checkpoint('ck2', 250, 'r2'))), 'ck3');
    assert.equal(previousTarget(alias(history.slice(0, 1), checkpoint('ck1', 50, 'r1'))), undefined, 'nothing to roll back to');
    assert.equal(historyLabel(history[0]!, { location: '/p/outputs/r1/checkpoint-50', step: 50, runId: 'r1', runName: 'baseline' }), 'was step 50 · baseline');
    assert.equal(historyLabel(history[0]!, { location: '/p/outputs/r1/final', step: 60, runId: 'r1', runName: null }), 'was step 60 (final)');
    assert.equal(historyLabel(history[0]!, null), 'was ck1');
  });
});
