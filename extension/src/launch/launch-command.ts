/**
 * `Keel: Launch Fine-tune` and `Keel: Launch Sweep`: pick the config (the active editor's
 * first, then those keel.yaml's `configs` globs match), the host (free/total GPUs and
 * reachability, plus Local), on a Slurm host the partition (from its last check) and a time
 * limit, the GPU count, `key=value` overrides (or a sweep grid); check it
 * all with the daemon's pre-flight; name the run; confirm a one-line summary, launch, and
 * follow the log in a terminal. Callers (the explorer menu, CodeLens, tests) may pass a
 * config Uri or a LaunchRequest to skip steps.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { PreflightProblem, PreflightResult, Run } from '../../../daemon/src/protocol/index.ts';
import { ExplainedError, NoProjectError } from '../errors.ts';
import { plural } from '../format.ts';
import { readKeelYaml } from '../project/keel-yaml.ts';
import type { WorkspaceProjects } from '../project/workspace-projects.ts';
import { announceRun } from '../runs/run-commands.ts';
import type { RunLogTerminals } from '../runs/log-terminal.ts';
import type { RunsModel } from '../runs/runs-model.ts';
import type { KeelServices } from '../services.ts';
import { registerKeelCommand } from '../show-error.ts';
import {
  gpuCounts, hostChoices, hostLabel, hostParams, launchSummary, looksLikeConfig, orderConfigs, parseGrid, parseLaunchRequest, parseMaxParallel, parseOverrides,
  partitionItems, partitionNameProblem, slurmParams, timeLimitProblem,
  type HostChoice, type HostTarget, type LaunchRequest, type Parsed, type PartitionItem, type SlurmPartition,
} from './launch-input.ts';
import { askAboutProblems, askName, problemsText, runPreflight, type PreflightParams } from './preflight-step.ts';

export interface LaunchDeps {
  services: KeelServices;
  projects: WorkspaceProjects;
  model: RunsModel;
  terminals: RunLogTerminals;
}

interface ConfigChoice {
  path: string;
  root: string;
}

/** Files keel.yaml's `configs` globs match in each project root (VS Code's search, so it respects files.exclude). */
async function configCandidates(roots: readonly string[]): Promise<ConfigChoice[]> {
  const found: ConfigChoice[] = [];
  for (const root of roots) {
    for (const glob of readKeelYaml(root).configs) {
      const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(root, glob), '**/node_modules/**', 500);
      for (const u of uris) if (looksLikeConfig(u.fsPath)) found.push({ path: u.fsPath, root });
    }
  }
  return found;
}

function rootOf(path: string, roots: readonly string[]): string | undefined {
  return roots.filter((r) => path === r || path.startsWith(`${r}/`)).sort((a, b) => b.length - a.length)[0];
}

/** The config in a request (absolute, or relative to the first project root) with its root. */
function requestedConfig(config: string, roots: readonly string[]): ConfigChoice {
  const path = isAbsolute(config) ? config : resolve(roots[0] ?? '', config);
  const root = rootOf(path, roots);
  if (!root) throw new Error(`${path} is not inside a Keel project of this workspace (a folder with keel.yaml)`);
  return { path, root };
}

async function pickConfig(roots: readonly string[], title: string): Promise<ConfigChoice | undefined> {
  const candidates = await configCandidates(roots);
  const activeUri = vscode.window.activeTextEditor?.document.uri;
  const active = activeUri?.scheme === 'file' && rootOf(activeUri.fsPath, roots) ? activeUri.fsPath : undefined;
  const ordered = orderConfigs(candidates.map((c) => c.path).concat(active ? [active] : []), active);
  if (ordered.length === 0) {
    const choice = await vscode.window.showWarningMessage('Keel: no training configs match the `configs` globs in keel.yaml.', 'Open keel.yaml');
    if (choice && roots[0]) await vscode.window.showTextDocument(vscode.Uri.file(join(roots[0], 'keel.yaml')));
    return undefined;
  }
  const items = ordered.map((path) => {
    const root = rootOf(path, roots) ?? roots[0] ?? '';
    return { label: relative(root, path), description: path === active ? 'active editor' : roots.length > 1 ? root : '', path, root };
  });
  const picked = await vscode.window.showQuickPick(items, { title: `${title}: config`, placeHolder: 'Which training config?', matchOnDescription: true });
  return picked ? { path: picked.path, root: picked.root } : undefined;
}

async function pickHost(services: KeelServices, title: string, target: HostTarget | undefined): Promise<HostChoice | undefined> {
  const client = await services.client();
  const choices = hostChoices((await client.call('hosts/list', {})).hosts);
  if (target) {
    const found = choices.find((c) => c.target.kind === target.kind && (target.kind !== 'host' || (c.target.kind === 'host' && c.target.name === target.name)));
    if (!found) throw new Error(`there is no host "${hostLabel(target)}"; Keel: Add Host adds one`);
    return found;
  }
  const picked = await vscode.window.showQuickPick(choices.map((c) => ({ ...c, choice: c })), { title: `${title}: host`, placeHolder: 'Where should it run?' });
  return picked?.choice;
}

async function pickGpus(host: HostChoice, title: string): Promise<number | undefined> {
  const counts = gpuCounts(host);
  // A host without GPUs has one answer; asking would only slow the user down.
  if (counts.length === 1) return 0;
  // Slurm owns a cluster's GPUs: Keel knows how many a node has, not how many are free; Slurm queues the run until they are.
  const slurm = host.slurm !== undefined;
  const items = counts.map((n) => ({
    label: n === 0 ? '0 (CPU only)' : String(n),
    description: !slurm && n > host.gpusFree ? `waits until ${n} are free (${host.gpusFree} now)` : '',
    n,
  }));
  const placeHolder = slurm ? `How many GPUs? (up to ${host.gpusTotal} per node; Slurm queues the run until they are free)` : `How many GPUs? (${host.gpusFree} of ${host.gpusTotal} free)`;
  const picked = await vscode.window.showQuickPick(items, { title: `${title}: GPUs`, placeHolder });
  return picked?.n;
}

/** A Slurm host's partitions: those of its last check, else a check now (null when that fails: the user may type one). */
async function slurmPartitions(deps: LaunchDeps, host: HostChoice): Promise<SlurmPartition[] | null> {
  if (host.slurm?.partitions) return host.slurm.partitions;
  if (host.target.kind !== 'host') return null;
  const name = host.target.name;
  const client = await deps.services.client();
  try {
    const r = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Keel: asking ${name} for its partitions (sinfo)…` },
      () => client.call('hosts/check', { name }, { timeoutMs: 120_000 }),
    );
    if (r.facts?.slurm) return r.facts.slurm.partitions;
    deps.services.log.warn(`launch: checking ${name} for partitions failed: ${r.error ?? 'no Slurm facts'}`);
  } catch (err) {
    deps.services.log.warn(`launch: checking ${name} for partitions failed: ${(err as Error).message}`);
  }
  return null;
}

/** The partition step: undefined when the user stops; `item.partition` undefined is the host default. */
async function pickPartition(deps: LaunchDeps, host: HostChoice, title: string): Promise<PartitionItem | undefined> {
  const items = partitionItems(await slurmPartitions(deps, host), host.slurm?.hostDefault ?? null);
  const picked = await vscode.window.showQuickPick(items.map((i) => ({ ...i, item: i })), { title: `${title}: partition`, placeHolder: 'Which Slurm partition? (sbatch --partition)', matchOnDescription: true });
  if (!picked?.item.other) return picked?.item;
  const typed = await vscode.window.showInputBox({ title: `${title}: partition`, prompt: 'The partition name (sinfo lists them)', validateInput: partitionNameProblem });
  return typed === undefined ? undefined : { label: typed.trim(), description: '', partition: typed.trim(), gpus: null, timeLimit: null };
}

/** The time-limit step: '' keeps the partition's limit; undefined when the user stops. */
async function askTimeLimit(title: string, partitionLimit: string | null): Promise<string | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${title}: time limit`,
    prompt: `Slurm time limit (sbatch --time): MM, HH:MM:SS or D-HH:MM:SS. Enter for the partition's limit${partitionLimit ? ` (${partitionLimit})` : ''}.`,
    placeHolder: '02:00:00',
    validateInput: timeLimitProblem,
  });
  return text === undefined ? undefined : text.trim();
}

/** A sweep on a Slurm host is one job array: how many of its tasks may run at once (`%M`). */
async function askMaxParallel(title: string, points: number): Promise<number | null | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${title}: at most at once`,
    prompt: `The sweep goes to Slurm as one job array of ${plural(points, 'task')}: at most how many may run at once (--max-parallel)? Enter for no limit.`,
    placeHolder: String(Math.min(points, 4)),
    validateInput: (v) => { const r = parseMaxParallel(v); return r.ok ? undefined : r.error; },
  });
  if (text === undefined) return undefined;
  const r = parseMaxParallel(text);
  return r.ok ? r.value ?? null : undefined;
}

async function askOverrides(title: string, value = ''): Promise<string[] | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${title}: overrides`,
    prompt: 'Optional config overrides as key=value, separated by spaces (Enter for none)',
    placeHolder: 'learning_rate=0.1 num_train_epochs=2',
    value,
    validateInput: (v) => { const r = parseOverrides(v); return r.ok ? undefined : r.error; },
  });
  if (text === undefined) return undefined;
  const r = parseOverrides(text);
  return r.ok ? r.value : undefined;
}

async function askGrid(title: string): Promise<{ grid: string[]; points: number } | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${title}: grid`,
    prompt: 'Values to sweep: key=v1,v2 for each key, separated by spaces (one run per combination)',
    placeHolder: 'learning_rate=0.05,0.1,0.2 warmup_steps=0,20',
    validateInput: (v) => {
      const r = parseGrid(v);
      return r.ok ? { message: plural(r.value.points, 'run'), severity: vscode.InputBoxValidationSeverity.Info } : r.error;
    },
  });
  if (text === undefined) return undefined;
  const r = parseGrid(text);
  return r.ok ? r.value : undefined;
}

/** The last step: the summary, Launch or Cancel, and the pre-flight's warnings (picking one shows it whole). */
async function confirm(summary: string, title: string, warnings: readonly PreflightProblem[]): Promise<boolean> {
  const items: (vscode.QuickPickItem & { go?: boolean; warning?: string })[] = [
    { label: '$(rocket) Launch', description: warnings.length ? `with ${plural(warnings.length, 'warning')}` : 'checked: config, paths, overrides, host', go: true },
    { label: '$(close) Cancel', go: false },
    ...(warnings.length ? [{ label: 'Warnings', kind: vscode.QuickPickItemKind.Separator }] : []),
    ...warnings.map((w) => ({ label: `$(warning) ${w.message}`, warning: w.message })),
  ];
  for (;;) {
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: summary });
    if (picked?.warning === undefined) return picked?.go === true;
    const again = await vscode.window.showWarningMessage(picked.warning, { modal: true }, 'Launch', 'Back');
    if (again === 'Launch') return true;
    if (again !== 'Back') return false;
  }
}

/** `key=v1,v2` → `key=v1`: one point of a grid, for the pre-flight to check its key and type. */
function firstPoint(entry: string): string {
  const eq = entry.indexOf('=');
  return `${entry.slice(0, eq + 1)}${entry.slice(eq + 1).split(',')[0] ?? ''}`;
}

/**
 * Overrides that pass the pre-flight (or that the user launches anyway): errors reopen the
 * overrides step with what was typed. A caller that answered every step gets an error instead.
 */
async function checkedOverrides(deps: LaunchDeps, title: string, base: PreflightParams, first: string[] | undefined, grid: string[] | undefined, answered: boolean): Promise<{ set: string[]; result: PreflightResult } | undefined> {
  let set = first ?? await askOverrides(title);
  for (;;) {
    if (!set) return undefined;
    const probe = [...set, ...(grid ?? []).map(firstPoint)];
    const result = await runPreflight(deps.services, { ...base, ...(probe.length ? { set: probe } : {}) });
    if (result.ok) return { set, result };
    if (answered) throw new ExplainedError({ code: 'E_PREFLIGHT', message: problemsText(result.problems).detail.replace(/\n\n/g, ' '), actions: ['showOutput'] });
    const choice = await askAboutProblems(result, true);
    if (choice === 'launch') return { set, result };
    if (choice === 'cancel') return undefined;
    set = await askOverrides(title, set.join(' '));
  }
}

/** What the command was called with: a config file (explorer, CodeLens) or a LaunchRequest. */
function requestOf(arg: unknown): LaunchRequest {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? { config: arg.fsPath } : {};
  const r = parseLaunchRequest(arg);
  if (!r.ok) throw new Error(`invalid launch request: ${r.error}`);
  return r.value;
}

interface Target {
  config: ConfigChoice;
  host: HostChoice;
  gpus: number;
  /** Slurm hosts: sbatch --partition / --time, when the user chose them. */
  slurm: { partition?: string; time?: string };
  grid?: { grid: string[]; points: number };
  /** A sweep on a Slurm host: its job array's limit of tasks at once. */
  maxParallel?: number;
}

/**
 * Where and how it runs: the config, the host, on a Slurm host its partition and time limit,
 * the GPUs and (a sweep) the grid; undefined when the user stops. A caller that answered
 * every step (`answered`) is asked nothing, on Slurm either.
 */
async function askTarget(deps: LaunchDeps, req: LaunchRequest, title: string, sweep: boolean, answered: boolean): Promise<Target | undefined> {
  const roots = deps.projects.roots();
  if (roots.length === 0) throw new NoProjectError();
  await deps.services.client();
  const config = req.config ? requestedConfig(req.config, roots) : await pickConfig(roots, title);
  if (!config) return undefined;
  const host = await pickHost(deps.services, title, req.target);
  if (!host) return undefined;
  let gpuChoice = host;
  let slurm: Target['slurm'] = slurmParams(req);
  if (host.slurm && !answered) {
    const partition = req.partition !== undefined ? { partition: req.partition, gpus: null, timeLimit: null } : await pickPartition(deps, host, title);
    if (!partition) return undefined;
    // The GPU step offers what one node of the chosen partition has (Slurm queues the run until they are free).
    if (partition.gpus !== null) gpuChoice = { ...host, gpusTotal: partition.gpus, gpusFree: partition.gpus };
    const time = req.time ?? await askTimeLimit(title, partition.timeLimit);
    if (time === undefined) return undefined;
    slurm = slurmParams({ partition: partition.partition, time });
  }
  const gpus = req.gpus ?? await pickGpus(gpuChoice, title);
  if (gpus === undefined) return undefined;
  if (!sweep) return { config, host, gpus, slurm };
  const grid = req.grid ? checked(parseGrid(req.grid.join(' '))) : await askGrid(title);
  if (!grid) return undefined;
  if (!host.slurm) return { config, host, gpus, slurm, grid };
  const limit = req.maxParallel ?? (answered ? null : await askMaxParallel(title, grid.points));
  if (limit === undefined) return undefined;
  return { config, host, gpus, slurm, grid, ...(limit !== null ? { maxParallel: limit } : {}) };
}

async function launch(deps: LaunchDeps, arg: unknown, sweep: boolean): Promise<Run | Run[] | undefined> {
  const title = sweep ? 'Keel: Launch Sweep' : 'Keel: Launch Fine-tune';
  const req = requestOf(arg);
  const answered = Boolean(req.config && req.target && req.gpus !== undefined && req.set && (!sweep || req.grid));
  const target = await askTarget(deps, req, title, sweep, answered);
  if (!target) return undefined;
  const { config, host, gpus, slurm, grid, maxParallel } = target;
  const base: PreflightParams = { config: config.path, cwd: config.root, ...hostParams(host.target), gpus, ...slurm };
  const passed = await checkedOverrides(deps, title, base, req.set, grid?.grid, answered);
  if (!passed) return undefined;
  const { set, result } = passed;
  // A sweep names its runs after the config and the point (`lora-3`); a single run gets a name step.
  const name = sweep ? undefined : req.name ?? (answered ? undefined : await askName(title, result.defaultName));
  if (!sweep && !answered && name === undefined) return undefined;
  const summary = launchSummary({ config: relative(config.root, config.path), target: host.target, gpus, set, ...slurm, ...(grid ? { sweepRuns: grid.points } : {}), ...(maxParallel !== undefined ? { maxParallel } : {}), ...(name ? { name } : {}) });
  if (!answered && !(await confirm(summary, title, result.problems.filter((p) => p.severity === 'warning')))) return undefined;
  // The default name is left to the daemon, which makes it unique at the moment of launch.
  const params = { ...base, ...(set.length ? { set } : {}), ...(name && name !== result.defaultName ? { name } : {}) };
  deps.services.log.info(`launch: ${summary}`);
  const client = await deps.services.client();
  if (!grid) {
    const { run } = await client.call('runs/launch', params);
    announceRun(deps, run, 'launched');
    return run;
  }
  const { runs } = await client.call('runs/sweep', { ...params, grid: grid.grid, ...(maxParallel !== undefined ? { maxParallel } : {}) });
  deps.model.refreshSoon();
  const how = host.slurm ? `goes to Slurm as one job array${maxParallel !== undefined ? `, at most ${maxParallel} at once` : ''}` : 'queued';
  void vscode.window.showInformationMessage(`Keel: sweep of ${runs.length} runs ${how}.`, 'Compare', 'Show Runs').then((choice) => {
    if (choice === 'Compare') void vscode.commands.executeCommand('keel.compareRuns', ...runs.map((r) => r.id));
    if (choice === 'Show Runs') void vscode.commands.executeCommand('keel.runs.focus');
  });
  return runs;
}

function checked<T>(r: Parsed<T>): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

export function registerLaunchCommands(deps: LaunchDeps): vscode.Disposable[] {
  return [
    registerKeelCommand('keel.launchRun', (arg) => launch(deps, arg, false), deps.services.log, 'Launch failed'),
    registerKeelCommand('keel.launchSweep', (arg) => launch(deps, arg, true), deps.services.log, 'Sweep failed'),
  ];
}
