/**
 * What the extension's features share: a connection to the daemon that survives daemon
 * restarts, notifications that survive reconnects, and one log channel. Implemented in
 * connection/; features (views, commands, compare panel, hovers) only use this interface.
 */
import type * as vscode from 'vscode';
import type { KeelClient } from '../../daemon/src/client/client.ts';
import type { NotificationOf, ResyncNotification, Topic } from '../../daemon/src/protocol/index.ts';

export interface KeelServices {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  /**
   * A connected client, starting the daemon first if needed (VS Code's own runtime with
   * ELECTRON_RUN_AS_NODE=1, or `keel.daemon.nodePath`). Rejects with an Error whose message
   * is fit to show the user.
   */
  client(): Promise<KeelClient>;
  /** The client if connected right now (for things that must never wait, like hovers). */
  readonly connected: KeelClient | null;
  /** Fires after every (re)connect. */
  readonly onDidConnect: vscode.Event<KeelClient>;
  /** Fires when the connection drops. */
  readonly onDidDisconnect: vscode.Event<string>;
  /** Daemon notifications on a topic; the subscription is renewed after reconnects. */
  onNotification<T extends Topic>(topic: T, listener: (params: NotificationOf[T]) => void): vscode.Disposable;
  /**
   * The daemon dropped notifications (logs, metrics, progress) while this window was not
   * reading fast enough: re-read the runs named from your own cursor (log offset, last step).
   */
  onResync(listener: (params: ResyncNotification) => void): vscode.Disposable;
}
