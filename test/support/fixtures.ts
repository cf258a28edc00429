/**
 * Real files written by real tools (HF Trainer, TRL, lm-eval, TensorBoard writers, Axolotl and
 * torchtune configs), copied into the repository with their licences: see
 * test/fixtures/real/README.md and test/fixtures/real/LICENSES. Tests read them from here, so a
 * clone of the repository needs nothing beside it.
 */
import { resolve } from 'node:path';

/** test/fixtures/real */
export const REAL_FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'real');

/** A path under test/fixtures/real. */
export function realFixture(...parts: string[]): string {
  return resolve(REAL_FIXTURES, ...parts);
}

/**
 * test/fixtures/recorded: what a real daemon answered (lineage graphs, comparisons, live
 * notifications), recorded from runs of examples/tiny-finetune, to feed the extension's and
 * webview's pure-function tests.
 */
export const RECORDED = resolve(import.meta.dirname, '..', 'fixtures', 'recorded');
