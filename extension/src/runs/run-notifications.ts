/**
 * Shows the notices notify-policy.ts decides on, with their actions, and remembers each
 * run's last status (from `runs` notifications and the run list) to see transitions. A
 * failure is one notification that quotes the log's error line (runs/logTail), read once the
 * log is complete.
 */
import * as vscode from 'vscode';
import type { NotificationOf, RunStatus } from '../../../daemon/src/protocol/index.ts';
import { Disposables } from '../disposables.ts';
import { plural } from '../format.ts';
import type { KeelServices } from '../services.ts';
import { alertNotice, NoticeLimiter, runEndNotice, type Notice, type NotifySettings } from './notify-policy.ts';
import type { RunsModel } from './runs-model.ts';

const ACTION_COMMANDS: Record<Notice['actions'][number], string> = {
  'Show Log': 'keel.showLogs',
  Compare: 'keel.compareRuns',
  'Open Run': 'keel.openRun',
};

function settings(): NotifySettings {
  const c = vscode.workspace.getConfiguration('keel.notifications');
  return { onSuccess: c.get<boolean>('onSuccess', false), onFailure: c.get<boolean>('onFailure', true), onAlert: c.get<boolean>('onAlert', true) };
}

/** How often, and how far apart, a failure's log tail is read again while the log is still incomplete. */
const TAIL_TRIES = 5;
const TAIL_RETRY_MS = 400;

export class RunNotifications extends Disposables {
  private readonly services: KeelServices;
  private readonly model: RunsModel;
  private readonly statuses = new Map<string, RunStatus>();
  private readonly names = new Map<string, string>();
  private readonly seenAlerts = new Set<number>();
  private readonly limiter = new NoticeLimiter();
  private summaryTimer: NodeJS.Timeout | undefined;

  constructor(services: KeelServices, model: RunsModel) {
    super();
    this.services = services;
    this.model = model;
    this.register(model.onDidChange(() => {
      for (const r of model.runs) {
        if (!this.statuses.has(r.id)) this.statuses.set(r.id, r.status);
        this.names.set(r.id, r.name);
      }
    }));
    this.register(services.onNotification('runs', (p) => {
      if (p.deleted) {
        // The user deleted it: nothing ended, nothing to announce.
        this.statuses.delete(p.runId);
        return;
      }
      const previous = this.statuses.get(p.runId);
      this.statuses.set(p.runId, p.status);
      const notice = runEndNotice(previous, p, this.nameOf(p.runId), settings());
      if (notice && p.status === 'failed') void this.showFailure(p, previous);
      else this.show(notice);
    }));
    this.register(services.onNotification('alerts', (a) => {
      if (this.seenAlerts.has(a.id)) return;
      this.seenAlerts.add(a.id);
      this.show(alertNotice(a, a.runId ? this.nameOf(a.runId) : undefined, settings()));
    }));
    this.register({ dispose: () => clearTimeout(this.summaryTimer) });
  }

  /** The failure notice with the log's error line; without it when the log cannot be read in time. */
  private async showFailure(change: NotificationOf['runs'], previous: RunStatus | undefined): Promise<void> {
    let errorLine: string | null = null;
    try {
      errorLine = await this.errorLineOf(change.runId);
    } catch (err) {
      this.services.log.warn(`reading the log tail of ${change.runId}: ${(err as Error).message}`);
    }
    this.show(runEndNotice(previous, change, this.nameOf(change.runId), settings(), errorLine));
  }

  /** The daemon drains the log before it reports the end; a few tries cover a log still being copied. */
  private async errorLineOf(runId: string): Promise<string | null> {
    const client = this.services.connected;
    if (!client) return null;
    for (let attempt = 0; ; attempt++) {
      const tail = await client.call('runs/logTail', { run: runId, lines: 1 }, { timeoutMs: 5_000 });
      if (tail.complete || tail.errorLine !== null || attempt >= TAIL_TRIES) return tail.errorLine;
      await new Promise((r) => setTimeout(r, TAIL_RETRY_MS));
    }
  }

  private nameOf(runId: string): string {
    return this.names.get(runId) ?? this.model.find(runId)?.name ?? runId.slice(0, 8);
  }

  private show(notice: Notice | null): void {
    if (!notice) return;
    if (!this.limiter.admit(Date.now())) {
      this.summaryTimer ??= setTimeout(() => this.showSummary(), 10_000);
      return;
    }
    const show = notice.severity === 'error' ? vscode.window.showErrorMessage : notice.severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(`Keel: ${notice.message}`, ...notice.actions).then((choice) => {
      if (choice) void vscode.commands.executeCommand(ACTION_COMMANDS[choice], notice.runId);
    });
  }

  private showSummary(): void {
    this.summaryTimer = undefined;
    const n = this.limiter.takeHeld();
    if (n === 0) return;
    void vscode.window.showWarningMessage(`Keel: ${plural(n, 'more run')} ended or raised alerts; see the Runs view.`, 'Open Runs').then((choice) => {
      if (choice) void vscode.commands.executeCommand('keel.runs.focus');
    });
  }
}
