/**
 * Daemon requests per second from one extension window while 20 runs train: a real daemon
 * watches a project whose 20 output folders grow a metrics.jsonl line every second (what a
 * trainer logging once a second looks like to Keel), and the extension's own code — the
 * connection, the workspace projects, the Runs view (one running run expanded: VS Code asks
 * again for the children of expanded nodes whenever a tree says it changed) and the run list
 * behind it and the status bar, the Hosts and Models views, the config CodeLens on an open config file (VS Code asks again whenever the
 * lens says it changed), the lineage hover (a hover over a run's output folder every 2 s)
 * and a compare panel of the 20 runs — runs under plain Node with VS Code's APIs faked
 * (test/support/fake-vscode.ts). The daemon counts every request it takes by method
 * (`daemon/status` → `requests`); the figure is the window's requests over 30 s, beside the
 * `runs` and `metrics` notifications it received. Prints figures, asserts none. Needs
 * `npm run build`.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { defaultPanelState } from '../daemon/src/protocol/index.ts';
import { FakeLog, folders, settings, useFakeVscode } from '../test/support/fake-vscode.ts';
import { fakeWebviewPanel } from '../test/support/fake-webview-panel.ts';
import type { RunsNode } from '../extension/src/runs/runs-view.ts';
import { fmt, repoRoot, tempHome } from './support.ts';

useFakeVscode();
const { DaemonConnection } = await import('../extension/src/connection/daemon-connection.ts');
const { WorkspaceProjects } = await import('../extension/src/project/workspace-projects.ts');
const { RunsModel } = await import('../extension/src/runs/runs-model.ts');
const { RunsView } = await import('../extension/src/runs/runs-view.ts');
const { HostsView } = await import('../extension/src/hosts/hosts-view.ts');
const { ModelsView } = await import('../extension/src/models/models-view.ts');
const { ConfigLensProvider } = await import('../extension/src/lineage/codelens.ts');
const { LineageHoverProvider } = await import('../extension/src/lineage/hover.ts');
const { ComparePanel } = await import('../extension/src/compare/panel.ts');

const RUNS = 20;
const WINDOW_MS = 30_000;

const t = tempHome();
const root = join(t.dir, 'proj');
mkdirSync(join(root, 'configs'), { recursive: true });
writeFileSync(join(root, 'keel.yaml'), 'name: reqs\nconfigs: [configs/*.yaml]\noutputs: [outputs/*]\n');
writeFileSync(join(root, 'configs', 'base.yaml'), 'learning_rate: 0.0001\nseed: 42\n');
const outs = Array.from({ length: RUNS }, (_, i) => join(root, 'outputs', `run-${String(i).padStart(2, '0')}`));
let step = 0;
const writeStep = (): void => {
  step++;
  for (const [i, dir] of outs.entries()) appendFileSync(join(dir, 'metrics.jsonl'), JSON.stringify({ step, loss: 2 / step + i / 100, eval_loss: 2.1 / step }) + '\n');
};
for (const dir of outs) mkdirSync(dir, { recursive: true });
writeStep();

settings.set('keel.daemon.home', t.home);
folders.push(root);
const log = new FakeLog();
const context = { extensionPath: repoRoot, extensionUri: { scheme: 'file', fsPath: repoRoot }, extension: { packageJSON: { version: '0.1.0-bench' } } } as unknown as vscode.ExtensionContext;
const connection = new DaemonConnection(context, log as unknown as vscode.LogOutputChannel);
// The window: what activate() builds for these features, fed by one connection (they load on connect).
const projects = new WorkspaceProjects(connection);
const model = new RunsModel(connection, projects);
const runsView = new RunsView(connection, model);
const hosts = new HostsView(connection);
const models = new ModelsView(connection, model);
const lens = new ConfigLensProvider(connection);
const hover = new LineageHoverProvider(connection);
const client = await connection.client();
const waitFor = async (what: string, ok: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};
await waitFor('20 running runs', async () => (await client.call('runs/list', { statuses: ['running'] })).runs.length === RUNS);
const runIds = (await client.call('runs/list', {})).runs.map((r) => r.id);

const configDoc = { uri: { scheme: 'file', fsPath: join(root, 'configs', 'base.yaml') } } as unknown as vscode.TextDocument;
lens.provideCodeLenses(configDoc);
lens.onDidChangeCodeLenses(() => lens.provideCodeLenses(configDoc)); // VS Code asks again for the visible editor
const hoverLine = `see ${outs[0] ?? ''} for the run`;
const hoverDoc = { uri: { scheme: 'file', fsPath: join(root, 'notes.md') }, lineAt: () => ({ text: hoverLine }) } as unknown as vscode.TextDocument;
const hoverOnce = (): void => void hover.provideHover(hoverDoc, { line: 0, character: 10 } as vscode.Position, { isCancellationRequested: false } as vscode.CancellationToken);
// The Runs view with one running run expanded: VS Code asks again for the children of every
// expanded node whenever the view says its tree changed.
const expandedRun = (): RunsNode | undefined => {
  const running = model.groups().find((g) => g.kind === 'running')?.runs[0];
  return running ? { type: 'run', runId: running.id, run: running } : undefined;
};
const drawRunsView = async (): Promise<void> => {
  const groups = runsView.getChildren();
  for (const g of await groups) await runsView.getChildren(g);
  const run = expandedRun();
  if (run) await runsView.getChildren(run);
};
runsView.onDidChangeTreeData(() => void drawRunsView());
const { panel, posted, send } = fakeWebviewPanel();
const compare = new ComparePanel(connection, panel, defaultPanelState(runIds));
send({ type: 'ready' });
await waitFor('the compare panel init', () => posted.some((m) => m.type === 'init'));
await waitFor('the Runs view list', () => model.runs.length === RUNS);

// Notifications the window receives, counted the way the views get them.
const received = { runs: 0, metrics: 0 };
connection.onNotification('runs', () => received.runs++);
connection.onNotification('metrics', () => received.metrics++);

const writer = setInterval(writeStep, 1_000);
const hovering = setInterval(hoverOnce, 2_000);
await new Promise((r) => setTimeout(r, 5_000)); // steady state
const counts = async (): Promise<Record<string, number>> => (await client.call('daemon/status', {})).requests ?? {};
const before = await counts();
const got0 = { ...received };
const t0 = performance.now();
await new Promise((r) => setTimeout(r, WINDOW_MS));
const after = await counts();
const seconds = (performance.now() - t0) / 1000;
clearInterval(writer);
clearInterval(hovering);

const byMethod = Object.entries(after)
  .map(([m, n]) => [m, n - (before[m] ?? 0) - (m === 'daemon/status' ? 1 : 0)] as const)
  .filter(([, n]) => n > 0)
  .sort((a, b) => b[1] - a[1]);
const total = byMethod.reduce((s, [, n]) => s + n, 0);
const runsNotes = received.runs - got0.runs;
const metricNotes = received.metrics - got0.metrics;
console.log(`one window, ${RUNS} running runs logging once a second, ${fmt(seconds, 1)} s: ${fmt(total / seconds)} daemon requests/s ` +
  `(${byMethod.map(([m, n]) => `${m} ${fmt(n / seconds)}`).join(', ') || 'none'}); ` +
  `received ${fmt(runsNotes / seconds)} runs and ${fmt(metricNotes / seconds)} metrics notifications/s; ratio requests per runs notification ${fmt(runsNotes ? total / runsNotes : 0)}`);

compare.dispose();
hover.dispose();
lens.dispose();
hosts.dispose();
models.dispose();
runsView.dispose();
model.dispose();
projects.dispose();
connection.dispose();
t.cleanup();
