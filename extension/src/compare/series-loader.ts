/**
 * Loads the panel's curves and keeps them live. The first key goes out with `init` so the
 * first chart draws as soon as possible; the other keys follow as `series`, most relevant
 * first, one key at a time (every run's curve of that key at once) so the daemon stays free
 * for hovers. A live point that arrives while its curve is being fetched is held and sent
 * after the curve (the webview merges by step, so a repeat is harmless), never lost.
 * No vscode here: the panel gives it a fetch and a post.
 */
import type { HostToWebview, NotificationOf, SeriesPayload } from '../../../daemon/src/protocol/index.ts';
import { DisplayedSeries, seriesAppendFor, shouldStartSeries } from './deltas.ts';

type MetricsNote = NotificationOf['metrics'];

/** Fetches one (possibly zoomed) curve from the daemon. */
export type FetchSeries = (runId: string, key: string, maxPoints: number, range?: { fromStep?: number; toStep?: number }) => Promise<SeriesPayload>;

const pairKey = (runId: string, key: string): string => `${runId}\u0000${key}`;

export class SeriesLoader {
  private readonly fetch: FetchSeries;
  private readonly post: (m: HostToWebview) => void;
  private readonly onError: (message: string) => void;
  /** `keel.compare.maxPoints`, read when a curve is fetched. */
  private readonly maxPoints: () => number;
  private displayed = new DisplayedSeries([]);
  /** Curves being fetched, with the live notes that arrived meanwhile. */
  private readonly loading = new Map<string, MetricsNote[]>();
  /** Bumped by reset(): a stream from an older init stops. */
  private generation = 0;

  constructor(opts: { fetch: FetchSeries; post: (m: HostToWebview) => void; onError: (message: string) => void; maxPoints: () => number }) {
    this.fetch = opts.fetch;
    this.post = opts.post;
    this.onError = opts.onError;
    this.maxPoints = opts.maxPoints;
  }

  get shown(): DisplayedSeries {
    return this.displayed;
  }

  /** Starts over for these runs (a new init). */
  reset(runIds: readonly string[]): void {
    this.generation++;
    this.displayed = new DisplayedSeries(runIds);
    this.loading.clear();
  }

  /**
   * Curves for `init`, fetched concurrently; one that fails is left out (and logged), not the
   * panel. Nothing is marked shown until `adopt`: the panel fetches these while its webview
   * loads, and an init fetched for a stale comparison is thrown away.
   */
  async fetchForInit(pairs: readonly { runId: string; key: string }[], maxPoints = this.maxPoints()): Promise<SeriesPayload[]> {
    const got = await Promise.all(pairs.map(async ({ runId, key }) => {
      try {
        return await this.fetch(runId, key, maxPoints);
      } catch (err) {
        this.onError(`${key} of ${runId}: ${(err as Error).message}`);
        return null;
      }
    }));
    return got.filter((s): s is SeriesPayload => s !== null);
  }

  /** Starts over for these runs with the curves `init` carries on screen. */
  adopt(runIds: readonly string[], series: readonly SeriesPayload[]): void {
    this.reset(runIds);
    for (const s of series) this.displayed.add(s.runId, s.key);
  }

  /**
   * Sends the remaining curves key by key, every run's curve of a key in one `seriesBatch`
   * (the webview redraws a chart once per key, not once per run: with 10 runs a chart
   * pairing loss with eval_loss was rebuilt 10 times right after the first paint); stops
   * early when a newer init started.
   */
  async stream(pairs: readonly { runId: string; key: string }[]): Promise<void> {
    const maxPoints = this.maxPoints();
    const generation = this.generation;
    const keys = [...new Set(pairs.map((p) => p.key))];
    for (const key of keys) {
      if (generation !== this.generation) return;
      await this.loadKey(pairs.filter((p) => p.key === key), maxPoints);
    }
  }

  /** Fetches several curves concurrently and posts those that came as one message (a zoom when `range` is given). */
  private async loadKey(pairs: readonly { runId: string; key: string }[], maxPoints: number, range?: { fromStep?: number; toStep?: number }): Promise<void> {
    const generation = this.generation;
    const started = pairs.filter((p) => this.displayed.hasRun(p.runId)).map((p) => {
      const id = pairKey(p.runId, p.key);
      const held = this.loading.get(id) ?? [];
      this.loading.set(id, held);
      return { ...p, id, held };
    });
    const got = await Promise.all(started.map(async (p) => {
      try {
        return await this.fetch(p.runId, p.key, maxPoints, range);
      } catch (err) {
        this.onError(`${p.key} of ${p.runId}: ${(err as Error).message}`);
        return null;
      }
    }));
    for (const p of started) if (this.loading.get(p.id) === p.held) this.loading.delete(p.id);
    if (generation !== this.generation) return;
    const series = got.filter((s): s is SeriesPayload => s !== null);
    for (const s of series) this.displayed.add(s.runId, s.key);
    if (series.length === 1) this.post({ type: 'series', series: series[0] as SeriesPayload });
    else if (series.length > 1) this.post({ type: 'seriesBatch', series });
    for (const p of started) for (const note of p.held) this.onMetrics(note);
  }

  /** Fetches one curve and posts it as `series` (a zoom when `range` is given). */
  load(runId: string, key: string, maxPoints: number, range?: { fromStep?: number; toStep?: number }): Promise<void> {
    return this.loadKey([{ runId, key }], maxPoints, range);
  }

  /** A live `metrics` notification: a delta for a curve on screen, held while it loads, or the start of a new curve. */
  onMetrics(note: MetricsNote): void {
    const held = this.loading.get(pairKey(note.runId, note.key));
    if (held) {
      held.push(note);
      return;
    }
    const append = seriesAppendFor(this.displayed, note);
    if (append) this.post(append);
    else if (shouldStartSeries(this.displayed, note)) void this.load(note.runId, note.key, this.maxPoints());
  }
}
