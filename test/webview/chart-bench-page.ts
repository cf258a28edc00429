/**
 * Browser side of chart-library.bench.ts: time to first draw of the same aligned data with
 * uPlot and with a plain canvas polyline (the floor any canvas chart library stands on).
 * Both end with a pixel read-back, so lazily rasterised drawing is counted.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const W = 900;
const H = 300;
const colors = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];

/** `runs` noisy decaying curves of `points` steps each, on one shared x. */
function makeData(runs: number, points: number): [number[], ...number[][]] {
  const x = Array.from({ length: points }, (_, i) => i + 1);
  const ys = Array.from({ length: runs }, (_, r) => x.map((s) => (2 + r * 0.1) * Math.exp(-s / (points / 4)) + 0.3 + 0.08 * Math.sin(s * 12.9898 + r)));
  return [x, ...ys];
}

function host(): HTMLElement {
  const el = document.createElement('div');
  document.body.append(el);
  return el;
}

/** ms from `new uPlot` to its first draw (plus a pixel read-back). */
async function timeUplot(runs: number, points: number): Promise<number> {
  const data = makeData(runs, points);
  const el = host();
  const t0 = performance.now();
  let plot: uPlot | undefined;
  const drawn = new Promise<number>((resolve) => {
    plot = new uPlot({
      width: W, height: H, legend: { show: false },
      series: [{}, ...data.slice(1).map((_, i) => ({ stroke: colors[i % colors.length], width: 1.5, points: { show: false } }))],
      hooks: { draw: [(u: uPlot) => { u.ctx.getImageData(0, 0, 1, 1); resolve(performance.now() - t0); }] },
    }, data, el);
  });
  const ms = await drawn;
  plot?.destroy();
  el.remove();
  return ms;
}

/** ms to scale and stroke the same data as plain polylines on a canvas (plus a pixel read-back). */
function timeCanvas(runs: number, points: number): number {
  const data = makeData(runs, points);
  const el = host();
  const t0 = performance.now();
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  el.append(canvas);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d context');
  const [x, ...ys] = data;
  let lo = Infinity;
  let hi = -Infinity;
  for (const y of ys) for (const v of y) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const x0 = x[0] ?? 0;
  const sx = W / ((x[x.length - 1] ?? 1) - x0);
  const sy = H / (hi - lo || 1);
  ys.forEach((y, i) => {
    ctx.beginPath();
    ctx.strokeStyle = colors[i % colors.length] ?? '#888';
    ctx.lineWidth = 1.5;
    for (let j = 0; j < y.length; j++) {
      const px = ((x[j] ?? 0) - x0) * sx;
      const py = H - ((y[j] ?? 0) - lo) * sy;
      if (j === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
    ctx.stroke();
  });
  ctx.getImageData(0, 0, 1, 1);
  const ms = performance.now() - t0;
  el.remove();
  return ms;
}

Object.assign(window, { keelChartBench: { uplot: timeUplot, canvas: timeCanvas } });
