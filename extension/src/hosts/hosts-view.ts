/**
 * The Hosts view (GPU use and reachability, each GPU below its host; a Slurm host's partitions
 * and this user's queue below it) and the Add Host and Check Host commands. Refreshed (debounced) by `hosts` notifications and by a run's status
 * change (GPU leases change when runs start and end), not by its every ingest.
 */
import * as vscode from 'vscode';
import { isTerminal, type HostInfo, type SlurmCheckFacts } from '../../../daemon/src/protocol/index.ts';
import { Debouncer } from '../debounce.ts';
import { Disposables } from '../disposables.ts';
import { RunStatusMemory } from '../runs/run-deltas.ts';
import { themeIcon } from '../runs/runs-view.ts';
import type { KeelServices } from '../services.ts';
import { registerKeelCommand } from '../show-error.ts';
import { checkSummary, hostDescription, hostIcon, slurmHostRows, type HostChildRow } from './host-labels.ts';

export type HostNode =
  | { type: 'host'; hostName: string; host: HostInfo }
  | { type: 'gpu'; hostName: string; label: string; description: string }
  | { type: 'slurm'; hostName: string; row: HostChildRow };

export class HostsView extends Disposables implements vscode.TreeDataProvider<HostNode> {
  private readonly services: KeelServices;
  private hosts: HostInfo[] = [];
  private readonly emitter = this.register(new vscode.EventEmitter<HostNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly debouncer = this.register(new Debouncer(500, () => void this.refresh()));
  private readonly statuses = new RunStatusMemory();
  /** Slurm partitions from checks run here, for daemons whose `hosts/list` does not send `slurmPartitions`. */
  private readonly checkedPartitions = new Map<string, SlurmCheckFacts['partitions']>();

  /** A run's name by id (the Runs view's), for Keel's jobs in a Slurm host's queue. */
  private readonly runName: (runId: string) => string | undefined;

  constructor(services: KeelServices, runName: (runId: string) => string | undefined = () => undefined) {
    super();
    this.services = services;
    this.runName = runName;
    this.register(vscode.window.createTreeView('keel.hosts', { treeDataProvider: this }));
    this.register(services.onNotification('hosts', () => this.debouncer.schedule()));
    // A run's start or end moves GPU leases; its row updates (new points) and deleting an ended run do not.
    this.register(services.onNotification('runs', (n) => {
      const change = this.statuses.classify(n);
      if (change === 'new' || change === 'status' || (change === 'deleted' && !isTerminal(n.status))) this.debouncer.schedule();
    }));
    this.register(services.onDidConnect(() => { this.statuses.clear(); this.debouncer.schedule(); }));
  }

  list(): readonly HostInfo[] {
    return this.hosts;
  }

  /** Remembers what a check found on a Slurm host (its partitions) until the host list sends them. */
  noteCheck(name: string, facts: SlurmCheckFacts | undefined): void {
    if (facts) this.checkedPartitions.set(name, facts.partitions);
  }

  async refresh(): Promise<void> {
    const client = this.services.connected;
    if (!client) return;
    try {
      this.hosts = (await client.call('hosts/list', {})).hosts;
      this.emitter.fire(undefined);
    } catch (err) {
      this.services.log.warn(`refreshing hosts failed: ${(err as Error).message}`);
    }
  }

  getChildren(node?: HostNode): HostNode[] {
    if (!node) {
      const sorted = [...this.hosts].sort((a, b) => Number(b.backend === 'local') - Number(a.backend === 'local') || a.name.localeCompare(b.name));
      return sorted.map((host) => ({ type: 'host', hostName: host.name, host }));
    }
    if (node.type !== 'host') return [];
    if (node.host.backend === 'slurm') {
      const h = node.host;
      return slurmHostRows(h.slurmPartitions ?? this.checkedPartitions.get(h.name) ?? null, h.slurmQueue, this.runName).map((row) => ({ type: 'slurm', hostName: h.name, row }));
    }
    return node.host.gpus.map((g) => ({ type: 'gpu', hostName: node.hostName, label: `GPU ${g.index}`, description: `${g.name} · ${Math.round(g.memoryTotalMiB / 1024)} GB` }));
  }

  getTreeItem(node: HostNode): vscode.TreeItem {
    if (node.type === 'slurm') {
      const item = new vscode.TreeItem(node.row.label);
      item.id = `host:${node.hostName}:${node.row.key}`;
      item.description = node.row.description;
      if (node.row.tooltip) item.tooltip = node.row.tooltip;
      item.iconPath = new vscode.ThemeIcon(node.row.icon);
      return item;
    }
    if (node.type === 'gpu') {
      const item = new vscode.TreeItem(node.label);
      item.description = node.description;
      item.iconPath = new vscode.ThemeIcon('circuit-board');
      return item;
    }
    const h = node.host;
    const item = new vscode.TreeItem(h.name, h.gpus.length || h.backend === 'slurm' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `host:${h.name}`;
    item.description = hostDescription(h);
    const where = h.backend === 'local' ? 'This machine' : h.backend === 'slurm' ? `Slurm cluster, login node ${h.sshTarget ?? h.name}` : h.sshTarget ?? h.name;
    const rate = h.costPerHour !== null ? `\ncost per GPU-hour: ${h.costPerHour}` : '';
    item.tooltip = `${where}\nwork dir: ${h.workdir}${rate}${h.checkedAt ? `\nchecked ${new Date(h.checkedAt).toLocaleString()}` : ''}`;
    item.iconPath = themeIcon(hostIcon(h));
    item.contextValue = h.backend === 'local' ? 'keel.host.local' : 'keel.host';
    return item;
  }
}

async function addHost(services: KeelServices, view: HostsView): Promise<void> {
  const name = await vscode.window.showInputBox({
    title: 'Keel: Add Host (1/2)', prompt: 'A short name for the host, used in Keel (e.g. gpu1)',
    validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v.trim()) ? undefined : 'Letters, digits, ".", "_" and "-" (at most 64)'),
  });
  if (!name) return;
  const ssh = await vscode.window.showInputBox({
    title: 'Keel: Add Host (2/2)', prompt: 'How to reach it: an alias from ~/.ssh/config, or user@host[:port]', value: name.trim(),
    validateInput: (v) => (v.trim() && !/\s/.test(v.trim()) ? undefined : 'One ssh destination, no spaces'),
  });
  if (!ssh) return;
  const client = await services.client();
  await client.call('hosts/add', { name: name.trim(), ssh: ssh.trim() });
  await view.refresh();
  await checkHost(services, view, name.trim());
}

async function checkHost(services: KeelServices, view: HostsView, arg: unknown): Promise<void> {
  const client = await services.client();
  let name = typeof arg === 'string' ? arg : typeof arg === 'object' && arg !== null && typeof (arg as { hostName?: unknown }).hostName === 'string' ? (arg as { hostName: string }).hostName : undefined;
  if (!name) {
    const { hosts } = await client.call('hosts/list', {});
    const picked = await vscode.window.showQuickPick(hosts.map((h) => ({ label: h.name, description: hostDescription(h) })), { title: 'Keel: Check Host', placeHolder: 'Which host?' });
    name = picked?.label;
  }
  if (!name) return;
  const host = name;
  const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Keel: checking ${host}…` }, () => client.call('hosts/check', { name: host }, { timeoutMs: 120_000 }));
  view.noteCheck(host, r.facts?.slurm);
  await view.refresh();
  if (r.error || !r.facts) {
    const choice = await vscode.window.showWarningMessage(`Keel: ${host} is unreachable: ${r.error ?? 'no answer'}. Check that \`ssh ${r.host.sshTarget ?? host}\` works in a terminal.`, 'Show Output');
    if (choice) services.log.show();
    return;
  }
  void vscode.window.showInformationMessage(`Keel: ${host} is reachable: ${checkSummary(r.facts)}.`);
}

export function registerHostCommands(services: KeelServices, view: HostsView): vscode.Disposable[] {
  return [
    registerKeelCommand('keel.addHost', () => addHost(services, view), services.log, 'Add Host failed'),
    registerKeelCommand('keel.checkHost', (arg) => checkHost(services, view, arg), services.log, 'Check Host failed'),
  ];
}
