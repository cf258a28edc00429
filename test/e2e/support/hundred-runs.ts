/** The 100-run comparison the e2e test and the extension bench open (issue 12: the panel at 100 runs). */
import { Store, type MetricInput } from '../../../daemon/src/store/index.ts';
import { seededRandom } from '../../../daemon/src/dispatch/sweep.ts';

export const HUNDRED_STEPS = 10_000;
const LRS = Array.from({ length: 10 }, (_, i) => Number((2e-5 * (i + 1)).toPrecision(2)));
const SEEDS = [1, 2, 3, 4, 5];

/**
 * 100 finished runs in the store at `dbPath`: 2 grid sweeps × 10 learning rates × 5 seeds,
 * named `hundred-w<sweep>-lr<i>-s<seed>`, each with `loss` every step and `eval_loss` every
 * 100 steps for HUNDRED_HUNDRED_STEPS steps (a larger learning rate falls faster; seeds scatter).
 */
export function seedHundredRuns(dbPath: string): void {
  const store = new Store(dbPath);
  try {
    for (let w = 1; w <= 2; w++) {
      const sweepId = store.sweeps.create(null, `grid-${w}`, { learning_rate: LRS, seed: SEEDS });
      LRS.forEach((lr, i) => {
        for (const s of SEEDS) {
          const name = `hundred-w${w}-lr${String(i + 1).padStart(2, '0')}-s${s}`;
          const run = store.runs.create({ projectId: null, source: 'launch', name, status: 'succeeded', sweepId });
          store.runLinks.setParams(run.id, { learning_rate: lr, seed: s, output_dir: `outputs/${name}` });
          const rnd = seededRandom(w * 1000 + i * 10 + s);
          const pts: MetricInput[] = [];
          for (let step = 1; step <= HUNDRED_STEPS; step++) {
            const base = 2.4 * Math.exp((-step * (i + 1)) / 20_000) + 0.35;
            pts.push({ key: 'loss', step, value: base + 0.08 * (rnd() - 0.5), wallTime: 1_760_000_000 + step });
            if (step % 100 === 0) pts.push({ key: 'eval_loss', step, value: base + 0.1 + 0.03 * (rnd() - 0.5), wallTime: 1_760_000_000 + step });
          }
          store.metrics.record(run.id, pts);
        }
      });
    }
  } finally {
    store.close();
  }
}
