/**
 * The panel state as the host reads it back: from the serializer after a reload and from
 * `stateChanged`. Both come from the webview, so they are parsed, never trusted.
 */
import { defaultPanelState } from '../../../daemon/src/protocol/webview.ts';
import { MAX_COMPARED_RUNS } from '../../../daemon/src/protocol/methods.ts';
import type { ComparePanelState } from '../../../daemon/src/protocol/index.ts';

const isStringArray = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
const Sections: readonly NonNullable<ComparePanelState['section']>[] = ['metrics', 'config', 'evals', 'lineage'];
const isSection = (x: unknown): x is ComparePanelState['section'] => Sections.some((s) => s === x);

/**
 * A ComparePanelState from untrusted input, or undefined without run ids. Missing or
 * malformed view settings fall back to the defaults; fields this build does not know are
 * kept, so a newer webview's state survives the round trip.
 */
export function parsePanelState(x: unknown): ComparePanelState | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const s = x as Record<string, unknown>;
  if (!isStringArray(s.runIds) || s.runIds.length === 0) return undefined;
  const runIds = [...new Set(s.runIds)].slice(0, MAX_COMPARED_RUNS);
  const d = defaultPanelState(runIds);
  const { section: _section, selectedNode: _selectedNode, ...rest } = s;
  return {
    ...rest,
    runIds,
    xAxis: s.xAxis === 'time' ? 'time' : 'step',
    smoothing: typeof s.smoothing === 'number' && Number.isFinite(s.smoothing) ? Math.min(0.99, Math.max(0, s.smoothing)) : d.smoothing,
    logScale: typeof s.logScale === 'boolean' ? s.logScale : d.logScale,
    showAllParams: typeof s.showAllParams === 'boolean' ? s.showAllParams : d.showAllParams,
    baselineRunId: typeof s.baselineRunId === 'string' && runIds.includes(s.baselineRunId) ? s.baselineRunId : d.baselineRunId,
    selectedKeys: isStringArray(s.selectedKeys) ? s.selectedKeys : d.selectedKeys,
    ...(isSection(s.section) ? { section: s.section } : {}),
    ...(typeof s.selectedNode === 'string' && s.selectedNode.length <= 300 ? { selectedNode: s.selectedNode } : {}),
  };
}
