/**
 * The status bar's words: the daemon state and `N running · M queued`. Pure, so the exact
 * text is unit-tested.
 */
import type { ConnectionState } from '../connection/daemon-connection.ts';
import type { RunCounts } from '../runs/grouping.ts';

export interface StatusText {
  text: string;
  tooltip: string;
  /** Show the warning background (the daemon is unreachable). */
  warning: boolean;
}

const CLICK = 'Click to open the Keel Runs view.';

export function statusText(state: ConnectionState, counts: RunCounts | null): StatusText {
  switch (state.kind) {
    case 'idle':
      return { text: '$(circle-outline) Keel', tooltip: `Keel: not connected yet. ${CLICK}`, warning: false };
    case 'connecting':
      return { text: '$(sync~spin) Keel', tooltip: `Keel: connecting to the daemon… ${CLICK}`, warning: false };
    case 'connected': {
      const c = counts ?? { running: 0, queued: 0 };
      return {
        text: `$(pulse) ${c.running} running · ${c.queued} queued`,
        tooltip: `Keel daemon connected (pid ${state.pid}, Keel ${state.version}). ${CLICK}`,
        warning: false,
      };
    }
    case 'disconnected':
      return {
        text: '$(debug-disconnect) Keel disconnected',
        tooltip: `Keel daemon disconnected: ${state.reason}.${state.retrying ? ' Reconnecting…' : ' Run "Keel: Restart Daemon" to try again.'} ${CLICK}`,
        warning: true,
      };
  }
}
