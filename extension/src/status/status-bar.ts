/** The Keel status bar item: daemon state and run counts; a click opens the Runs view. */
import * as vscode from 'vscode';
import { Disposables } from '../disposables.ts';
import type { DaemonConnection } from '../connection/daemon-connection.ts';
import type { RunsModel } from '../runs/runs-model.ts';
import { statusText } from './status-text.ts';

export class KeelStatusBar extends Disposables {
  private readonly item: vscode.StatusBarItem;
  private readonly connection: DaemonConnection;
  private readonly runs: RunsModel;

  constructor(connection: DaemonConnection, runs: RunsModel) {
    super();
    this.connection = connection;
    this.runs = runs;
    this.item = this.register(vscode.window.createStatusBarItem('keel.status', vscode.StatusBarAlignment.Left, 50));
    this.item.name = 'Keel';
    this.item.command = 'keel.runs.focus';
    this.register(connection.onDidChangeState(() => this.update()));
    this.register(runs.onDidChange(() => this.update()));
    this.update();
  }

  private update(): void {
    const s = statusText(this.connection.state, this.runs.loaded ? this.runs.counts() : null);
    this.item.text = s.text;
    this.item.tooltip = s.tooltip;
    this.item.backgroundColor = s.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    // Quiet until Keel is in use: a workspace without keel.yaml sees no item until it connects.
    if (this.connection.state.kind === 'idle') this.item.hide();
    else this.item.show();
  }
}
