/**
 * The panel's remembered view state (ComparePanelState): read back from VS Code after a
 * reload, kept with `setState`, and reported to the host when the user changes it.
 */
import type { ComparePanelState, WebviewToHost } from '../../daemon/src/protocol/webview.ts';

/** The sections of the panel, in tab order. */
export const Sections = ['metrics', 'config', 'evals', 'lineage'] as const;
export type Section = (typeof Sections)[number];

const isStringArray = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

/** A saved state from `getState()` (untrusted: an older build may have written it), or null. */
export function parsePanelState(x: unknown): ComparePanelState | null {
  if (typeof x !== 'object' || x === null) return null;
  const s = x as Record<string, unknown>;
  if (!isStringArray(s.runIds) || !isStringArray(s.selectedKeys)) return null;
  if (s.xAxis !== 'step' && s.xAxis !== 'time') return null;
  if (typeof s.smoothing !== 'number' || typeof s.logScale !== 'boolean' || typeof s.showAllParams !== 'boolean') return null;
  if (s.baselineRunId !== null && typeof s.baselineRunId !== 'string') return null;
  const state: ComparePanelState = {
    runIds: s.runIds,
    xAxis: s.xAxis,
    smoothing: clampSmoothing(s.smoothing),
    logScale: s.logScale,
    showAllParams: s.showAllParams,
    baselineRunId: s.baselineRunId,
    selectedKeys: s.selectedKeys,
  };
  if (typeof s.section === 'string' && (Sections as readonly string[]).includes(s.section)) state.section = s.section as Section;
  if (typeof s.selectedNode === 'string' && s.selectedNode.length <= 300) state.selectedNode = s.selectedNode;
  if (isStringArray(s.hiddenRunIds)) state.hiddenRunIds = s.hiddenRunIds.filter((id) => (s.runIds as string[]).includes(id));
  if (typeof s.groupBy === 'string' && (s.groupBy === 'sweep' || s.groupBy.startsWith('param:')) && s.groupBy.length <= 300) state.groupBy = s.groupBy;
  const sort = s.tableSort as { column?: unknown; descending?: unknown } | undefined;
  if (typeof sort === 'object' && sort !== null && typeof sort.column === 'string' && sort.column.length <= 300 && typeof sort.descending === 'boolean') {
    state.tableSort = { column: sort.column, descending: sort.descending };
  }
  return state;
}

/** EMA weights outside 0…0.99 make no sense (1 would freeze the curve). */
export function clampSmoothing(w: number): number {
  if (!Number.isFinite(w) || w <= 0) return 0;
  return Math.min(0.99, Math.round(w * 100) / 100);
}

const sameRuns = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((id) => b.includes(id));

/**
 * The state to start from when `init` arrives: what this webview saved last time when it
 * shows the same runs (it is at least as fresh as the host's copy), else the host's. The
 * baseline must be one of the runs.
 */
export function initialState(saved: ComparePanelState | null, fromHost: ComparePanelState, runIds: readonly string[]): ComparePanelState {
  const base = saved && sameRuns(saved.runIds, fromHost.runIds) ? saved : fromHost;
  const baselineRunId = base.baselineRunId !== null && runIds.includes(base.baselineRunId) ? base.baselineRunId : (runIds[0] ?? null);
  return { ...base, runIds: [...runIds], baselineRunId, smoothing: clampSmoothing(base.smoothing) };
}

/** Where state goes: VS Code's webview state, and the host (only for the user's changes). */
export interface StateSink {
  setState(state: unknown): void;
  postMessage(message: WebviewToHost): void;
}

/** Holds the state; every change is saved, and changes the user made are posted as `stateChanged`. */
export class PanelState {
  private current: ComparePanelState;
  private readonly sink: StateSink;
  private readonly listeners: ((s: ComparePanelState, changed: (keyof ComparePanelState)[]) => void)[] = [];

  constructor(sink: StateSink, initial: ComparePanelState) {
    this.sink = sink;
    this.current = initial;
  }

  get value(): ComparePanelState {
    return this.current;
  }

  /** Replaces the whole state (on `init`) without telling the host, which sent it. */
  reset(state: ComparePanelState): void {
    this.current = state;
    this.sink.setState(state);
  }

  /** Applies a change; `byUser` changes are posted to the host. Returns whether anything changed. */
  update(patch: Partial<ComparePanelState>, byUser: boolean): boolean {
    const changed = (Object.keys(patch) as (keyof ComparePanelState)[]).filter(
      (k) => JSON.stringify(patch[k]) !== JSON.stringify(this.current[k]),
    );
    if (changed.length === 0) return false;
    this.current = { ...this.current, ...patch };
    this.sink.setState(this.current);
    if (byUser) this.sink.postMessage({ type: 'stateChanged', state: this.current });
    for (const l of this.listeners) l(this.current, changed);
    return true;
  }

  /** Calls `fn` after every update. */
  onChange(fn: (s: ComparePanelState, changed: (keyof ComparePanelState)[]) => void): void {
    this.listeners.push(fn);
  }
}
