/**
 * The extension's one connection to the daemon (KeelServices). It connects on first need,
 * starts the daemon when none runs (VS Code's runtime, then `keel.daemon.nodePath`),
 * reconnects with backoff when the daemon goes away, re-subscribes notification topics and
 * tells features about every (re)connect. It never loads a native module: all it speaks is
 * WebSocket frames over the daemon's Unix socket.
 */
import { accessSync, constants, statSync } from 'node:fs';
import * as vscode from 'vscode';
import { KeelClient, type ConnectOptions } from '../../../daemon/src/client/client.ts';
import { DaemonStartError, ensureDaemon } from '../../../daemon/src/client/ensure.ts';
import { ErrorCode, RpcError, type NotificationOf, type ResyncNotification, type Topic } from '../../../daemon/src/protocol/index.ts';
import { Disposables, toDisposable } from '../disposables.ts';
import { describeError, ExplainedError } from '../errors.ts';
import type { KeelServices } from '../services.ts';
import { backoffDelay, CONNECT_ONLY_ATTEMPTS } from './backoff.ts';
import { daemonPaths, type DaemonPaths } from './home.ts';
import { daemonLaunchers, daemonLogTail } from './launcher.ts';
import { stopDaemon } from './restart.ts';
import { TopicHub } from './topics.ts';

/** What the status bar shows. */
export type ConnectionState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'connected'; pid: number; version: string }
  | { kind: 'disconnected'; reason: string; retrying: boolean };

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export class DaemonConnection extends Disposables implements KeelServices {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  private current: KeelClient | null = null;
  private connecting: Promise<KeelClient> | null = null;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set while reconnecting must wait: the daemon speaks another protocol, or a restart is under way. */
  private suspended: 'mismatch' | 'restarting' | null = null;
  private mismatchDaemonVersion: number | null = null;
  private restartOffered = false;
  /** A start failed: later retries only connect, so a broken setup does not spawn a process every 10 s. */
  private startFailed = false;
  private stateValue: ConnectionState = { kind: 'idle' };
  private readonly hub: TopicHub;
  private readonly connectEmitter = this.register(new vscode.EventEmitter<KeelClient>());
  private readonly disconnectEmitter = this.register(new vscode.EventEmitter<string>());
  private readonly stateEmitter = this.register(new vscode.EventEmitter<ConnectionState>());
  readonly onDidConnect = this.connectEmitter.event;
  readonly onDidDisconnect = this.disconnectEmitter.event;
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(context: vscode.ExtensionContext, log: vscode.LogOutputChannel) {
    super();
    this.context = context;
    this.log = log;
    this.hub = new TopicHub((message) => log.error(message));
    this.register(toDisposable(() => {
      clearTimeout(this.retryTimer);
      this.hub.detach();
      this.current?.close();
      this.current = null;
    }));
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get connected(): KeelClient | null {
    return this.current?.connected ? this.current : null;
  }

  client(): Promise<KeelClient> {
    // Also after a protocol mismatch: the user may have restarted the daemon from a terminal.
    return this.connect(true);
  }

  onNotification<T extends Topic>(topic: T, listener: (params: NotificationOf[T]) => void): vscode.Disposable {
    return toDisposable(this.hub.add(topic, listener));
  }

  onResync(listener: (params: ResyncNotification) => void): vscode.Disposable {
    return toDisposable(this.hub.addResync(listener));
  }

  /** The daemon's folder, socket and log, from `keel.daemon.home`, `$KEEL_HOME` or ~/.keel. */
  paths(): DaemonPaths {
    return daemonPaths(vscode.workspace.getConfiguration('keel').get<string>('daemon.home'));
  }

  /** Connects in the background (a keel.yaml is in the workspace); failures are logged, not shown. */
  warmUp(): void {
    this.client().catch(() => { /* logged in failed(); a command shows it when the user asks */ });
  }

  /** Stops the daemon (whatever protocol it speaks) and connects to a fresh one. */
  async restartDaemon(): Promise<KeelClient> {
    this.suspended = 'restarting';
    clearTimeout(this.retryTimer);
    try {
      await stopDaemon({ paths: this.paths(), client: this.connected, identity: this.identity(), daemonProtocol: this.mismatchDaemonVersion, log: this.log });
    } finally {
      this.suspended = null;
      this.mismatchDaemonVersion = null;
      this.startFailed = false;
      this.attempt = 0;
    }
    return this.connect(true);
  }

  private identity(): ConnectOptions['client'] {
    const pkg = this.context.extension.packageJSON as { version?: unknown };
    return { name: 'keel-vscode', version: typeof pkg.version === 'string' ? pkg.version : '0.0.0' };
  }

  private setState(state: ConnectionState): void {
    this.stateValue = state;
    this.stateEmitter.fire(state);
  }

  private connect(start: boolean): Promise<KeelClient> {
    const open = this.connected;
    if (open) return Promise.resolve(open);
    if (this.connecting) return this.connecting;
    if (this.isDisposed) return Promise.reject(new Error('Keel is shutting down'));
    clearTimeout(this.retryTimer);
    this.setState({ kind: 'connecting' });
    const started = performance.now();
    this.connecting = this.open(start).then(
      (client) => {
        this.adopt(client, performance.now() - started);
        return client;
      },
      (err: unknown) => {
        throw this.failed(err);
      },
    ).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(start: boolean): Promise<KeelClient> {
    const paths = this.paths();
    const options: ConnectOptions = { socketPath: paths.socket, client: this.identity(), lockPath: paths.lock };
    if (!start) return KeelClient.connect(options);
    const launchers = daemonLaunchers({
      execPath: process.execPath,
      extensionPath: this.context.extensionPath,
      nodePath: vscode.workspace.getConfiguration('keel').get<string>('daemon.nodePath'),
      env: process.env,
      paths,
    });
    let lastError: unknown;
    for (const { name, launcher } of launchers) {
      if (!isExecutable(launcher.execPath)) {
        lastError = new DaemonStartError(`${launcher.execPath} is not an executable file`);
        this.log.warn(`could not start the daemon with ${name}: not an executable file`);
        continue;
      }
      try {
        const { client, started } = await ensureDaemon(launcher, options);
        if (started) this.log.info(`started the daemon with ${name}`);
        return client;
      } catch (err) {
        if (!(err instanceof DaemonStartError)) throw err;
        this.log.warn(`could not start the daemon with ${name}: ${err.message}`);
        lastError = err;
      }
    }
    const tail = daemonLogTail(paths.log);
    this.log.error(`the Keel daemon could not be started. ${tail ? `Last lines of ${paths.log}:\n${tail}` : `${paths.log} is empty or missing.`}`);
    throw lastError;
  }

  private adopt(client: KeelClient, ms: number): void {
    if (this.isDisposed) {
      client.close();
      return;
    }
    this.current = client;
    this.attempt = 0;
    this.startFailed = false;
    this.suspended = null;
    this.restartOffered = false;
    const daemon = client.initializeResult?.daemon ?? { pid: 0, version: '?' };
    client.onClose((reason) => this.dropped(client, reason));
    this.log.info(`connected to the Keel daemon pid ${daemon.pid} (Keel ${daemon.version}) in ${ms.toFixed(0)} ms`);
    this.setState({ kind: 'connected', pid: daemon.pid, version: daemon.version });
    this.hub.attach(client).catch((err: Error) => this.log.error(`re-subscribing failed: ${err.message}`));
    void this.logDaemonRuntime(client);
    this.connectEmitter.fire(client);
  }

  private async logDaemonRuntime(client: KeelClient): Promise<void> {
    try {
      const s = await client.call('daemon/status', {});
      this.log.info(`daemon runtime: node ${s.node} (N-API ${s.napi}) ${s.execPath}; db ${s.db}; socket ${s.socket}`);
    } catch (err) {
      this.log.warn(`daemon/status failed: ${(err as Error).message}`);
    }
  }

  /** Records a failed connect, schedules the next try, and returns the error to show. */
  private failed(err: unknown): ExplainedError {
    const explained = describeError(err);
    if (err instanceof RpcError && err.code === ErrorCode.ProtocolMismatch) {
      this.suspended = 'mismatch';
      const data = err.data as { daemon?: unknown } | undefined;
      this.mismatchDaemonVersion = typeof data?.daemon === 'number' ? data.daemon : null;
      this.log.error(`protocol mismatch: ${err.message}`);
      this.setState({ kind: 'disconnected', reason: 'the daemon speaks another protocol version', retrying: false });
      // Once per mismatch: a command that hits it again shows its own error with the same button.
      if (!this.restartOffered) this.offerRestart();
      this.restartOffered = true;
      return new ExplainedError(explained);
    }
    if (err instanceof DaemonStartError || (err as { code?: unknown }).code === 'E_HOME') this.startFailed = true;
    this.log.warn(`cannot connect to the Keel daemon: ${(err as Error).message}`);
    this.scheduleReconnect((err as Error).message);
    return new ExplainedError(explained);
  }

  private dropped(client: KeelClient, reason: string): void {
    if (client !== this.current) return;
    this.current = null;
    this.hub.detach();
    this.log.warn(`daemon connection dropped: ${reason}`);
    this.disconnectEmitter.fire(reason);
    if (this.isDisposed || this.suspended) {
      this.setState({ kind: 'disconnected', reason, retrying: false });
      return;
    }
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    if (this.isDisposed || this.suspended) return;
    clearTimeout(this.retryTimer);
    const delay = backoffDelay(this.attempt);
    this.attempt++;
    this.setState({ kind: 'disconnected', reason, retrying: true });
    this.log.debug(`reconnecting in ${delay} ms (attempt ${this.attempt})`);
    this.retryTimer = setTimeout(() => {
      // First only reconnect (a restarting daemon comes back by itself); then start one.
      const start = this.attempt > CONNECT_ONLY_ATTEMPTS && !this.startFailed;
      this.connect(start).catch(() => { /* failed() scheduled the next try */ });
    }, delay);
  }

  private offerRestart(): void {
    void vscode.window.showWarningMessage(
      'Keel: the running daemon is from a different version of Keel. Restart it? Runs on hosts keep going.',
      'Restart Daemon',
    ).then((choice) => {
      if (choice !== 'Restart Daemon') return;
      this.restartDaemon().catch((err: unknown) => {
        void vscode.window.showErrorMessage(describeError(err, 'Restarting the Keel daemon failed').message);
      });
    });
  }
}
