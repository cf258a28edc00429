/**
 * A run's log in a terminal: a Pseudoterminal that reads `runs/logs` from byte 0 and then
 * follows. `logs` and `runs` notifications only say "there is more"; the text always comes
 * from `runs/logs` at our byte offset, so nothing is lost or repeated across reconnects.
 * It stops when the daemon says the log is complete (`done`), and says how the run ended.
 */
import * as vscode from 'vscode';
import { completeLogText } from '../../../daemon/src/client/log-text.ts';
import { Disposables } from '../disposables.ts';
import { toTerminalText } from '../format.ts';
import type { KeelServices } from '../services.ts';

const CHUNK_BYTES = 1024 * 1024;
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

class LogPseudoterminal extends Disposables implements vscode.Pseudoterminal {
  private readonly services: KeelServices;
  private readonly runId: string;
  private readonly writeEmitter = this.register(new vscode.EventEmitter<string>());
  readonly onDidWrite = this.writeEmitter.event;
  private offset = 0;
  private pumping = false;
  private again = false;
  private finished = false;

  /** The run ended and its whole log is shown. */
  get isFinished(): boolean {
    return this.finished;
  }
  private readonly follow = new Disposables();

  constructor(services: KeelServices, runId: string) {
    super();
    this.services = services;
    this.runId = runId;
    this.register(this.follow);
  }

  open(): void {
    this.write(`${DIM}Keel: log of run ${this.runId}. Closing this terminal does not stop the run.${RESET}\r\n`);
    const mine = (p: { runId: string }): void => { if (p.runId === this.runId) this.pump(); };
    this.follow.register(this.services.onNotification('logs', mine));
    this.follow.register(this.services.onNotification('runs', mine));
    // Log lines the daemon dropped while this window was slow: the text is re-read from our offset.
    this.follow.register(this.services.onResync((p) => {
      if (p.dropped.some((d) => d.topic === 'logs' && d.runIds.includes(this.runId))) this.pump();
    }));
    this.follow.register(this.services.onDidConnect(() => this.pump()));
    this.pump();
  }

  close(): void {
    this.dispose();
  }

  /** Ctrl+C must not look like it cancels the run. */
  handleInput(data: string): void {
    if (data === '\x03') this.write(`\r\n${DIM}(Ctrl+C does not stop the run; use "Keel: Cancel Run".)${RESET}\r\n`);
  }

  private write(text: string): void {
    if (!this.isDisposed) this.writeEmitter.fire(text);
  }

  /** Reads until caught up; a call during a read makes the read go round again. */
  private pump(): void {
    if (this.finished || this.isDisposed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.readAll().finally(() => {
      this.pumping = false;
      if (this.again) {
        this.again = false;
        this.pump();
      }
    });
  }

  private async readAll(): Promise<void> {
    const client = this.services.connected ?? await this.services.client().catch(() => null);
    if (!client) return; // onDidConnect pumps again
    try {
      for (;;) {
        const r = await client.call('runs/logs', { run: this.runId, offset: this.offset, maxBytes: CHUNK_BYTES });
        if (r.size < this.offset) {
          // A retry writes a new attempt's log from byte 0.
          this.write(`\r\n${DIM}— a new attempt started —${RESET}\r\n`);
          this.offset = 0;
          continue;
        }
        // A chunk may end inside a multi-byte character: hold it back for the next read.
        const { text, next } = completeLogText(r, this.offset, r.done);
        if (text) this.write(toTerminalText(text));
        this.offset = next;
        if (r.offset < r.size) continue;
        if (r.done) await this.finish();
        return;
      }
    } catch (err) {
      this.services.log.warn(`following the log of ${this.runId}: ${(err as Error).message}`);
    }
  }

  private async finish(): Promise<void> {
    this.finished = true;
    this.follow.dispose();
    let ending = 'ended';
    try {
      const { run } = await this.services.client().then((c) => c.call('runs/get', { run: this.runId }));
      ending = `${run.status}${run.statusReason ? `: ${run.statusReason}` : ''}${run.exitCode !== null ? ` (exit ${run.exitCode})` : ''}`;
    } catch {
      /* the footer is a courtesy */
    }
    this.write(`\r\n${DIM}Keel: run ${ending}.${RESET}\r\n`);
  }
}

/** Log terminals of ended runs kept open; older ones are closed when another opens. */
const KEEP_ENDED = 3;
/** Terminal tab titles longer than this are cut (the tab would cut them anyway, less kindly). */
const MAX_TITLE = 40;

/** The tab title: the run's name, short enough to read in a tab. */
export function terminalTitle(runName: string): string {
  return runName.length > MAX_TITLE ? `${runName.slice(0, MAX_TITLE - 1)}…` : runName;
}

/**
 * One log terminal per run; showing a run's log again focuses its terminal. Terminals of
 * ended runs do not pile up: past KEEP_ENDED, the oldest (never the one in front) are closed.
 */
export class RunLogTerminals extends Disposables {
  private readonly services: KeelServices;
  private readonly terminals = new Map<string, { terminal: vscode.Terminal; pty: LogPseudoterminal; openedAt: number }>();

  constructor(services: KeelServices) {
    super();
    this.services = services;
    this.register(vscode.window.onDidCloseTerminal((t) => {
      for (const [id, open] of this.terminals) if (open.terminal === t) this.terminals.delete(id);
    }));
  }

  show(runId: string, runName: string, preserveFocus = false): vscode.Terminal {
    let open = this.terminals.get(runId);
    if (!open) {
      this.closeOldEnded();
      const pty = new LogPseudoterminal(this.services, runId);
      const terminal = vscode.window.createTerminal({ name: terminalTitle(runName), pty, iconPath: new vscode.ThemeIcon('output') });
      open = { terminal, pty, openedAt: Date.now() };
      this.terminals.set(runId, open);
    }
    open.terminal.show(preserveFocus);
    return open.terminal;
  }

  private closeOldEnded(): void {
    const ended = [...this.terminals.values()].filter((t) => t.pty.isFinished && t.terminal !== vscode.window.activeTerminal).sort((a, b) => a.openedAt - b.openedAt);
    for (const old of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED + 1))) old.terminal.dispose();
  }

  /** Whether a run's log terminal is open (tests and the launch flow). */
  has(runId: string): boolean {
    return this.terminals.has(runId);
  }
}
