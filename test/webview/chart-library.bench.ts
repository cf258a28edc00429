/**
 * Which chart library for the compare panel: uPlot's time to first draw against a plain
 * canvas polyline baseline, in headless Chromium, for 10 runs × 100,000 points (raw) and
 * 10 runs × 2,000 points (what the daemon's downsampling sends). Prints figures; never fails
 * on a number. Run: node test/webview/chart-library.bench.ts
 */
import path from 'node:path';
import { buildBundle, launchChromium, removeDir, servePanel } from './browser.ts';

const REPEATS = 10;
const cases = [{ runs: 10, points: 100_000 }, { runs: 10, points: 2_000 }];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

const dir = await buildBundle(path.join(import.meta.dirname, 'chart-bench-page.ts'), 'chart-bench');
const server = await servePanel(dir);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/?bundle=chart-bench`);
  await page.waitForFunction(() => 'keelChartBench' in window);
  console.log('chart library: time to first draw in headless Chromium (ms; median, min–max of %d)', REPEATS);
  for (const c of cases) {
    const times = await page.evaluate(async ({ runs, points, repeats }) => {
      const bench = (window as unknown as { keelChartBench: { uplot(r: number, p: number): Promise<number>; canvas(r: number, p: number): number } }).keelChartBench;
      await bench.uplot(runs, points); // warm-up (JIT, fonts)
      bench.canvas(runs, points);
      const u: number[] = [];
      const k: number[] = [];
      for (let i = 0; i < repeats; i++) {
        u.push(await bench.uplot(runs, points));
        k.push(bench.canvas(runs, points));
      }
      return { u, k };
    }, { ...c, repeats: REPEATS });
    const fmt = (xs: number[]): string => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
    console.log(`  ${c.runs} runs × ${c.points.toLocaleString('en')} points: uPlot ${fmt(times.u)} · plain canvas polyline ${fmt(times.k)} · ratio ${(median(times.u) / median(times.k)).toFixed(2)}×`);
  }
} finally {
  await browser.close();
  await server.close();
  removeDir(dir);
}
