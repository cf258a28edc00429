/**
 * What a run expands to in the Runs view, from `runs/get`: its config, datasets, code
 * version, checkpoints and evals. Pure rows (labels, codicons, what a click opens); the
 * view turns them into TreeItems.
 */
import type { Checkpoint, EvalResult, RunDetail } from '../../../daemon/src/protocol/index.ts';
import { duration, formatBytes, formatValue, plural, shortHash, usageLine } from '../format.ts';

export interface DetailRow {
  /** Unique among its siblings (tree item ids are built from it); defaults to the label. */
  key?: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon: string;
  /** A file to open on click (absolute path). */
  open?: string;
  /** Menus key on this (e.g. `keel.checkpoint` for Pull/Tag). */
  contextValue?: string;
  checkpoint?: Checkpoint;
  /** Rows shown when this one expands. */
  children?: DetailRow[];
}

/** How an absolute path is shown (the view passes a workspace-relative form). */
export type PathDisplay = (absPath: string) => string;

function configRow(d: RunDetail, display: PathDisplay): DetailRow {
  const c = d.config;
  if (!c) return { label: 'Config', description: 'not recorded', icon: 'settings-gear' };
  const path = c.paths[0];
  return {
    label: 'Config',
    description: [path ? display(path) : '', c.flavor, shortHash(c.hash)].filter(Boolean).join(' · '),
    tooltip: c.paths.join('\n'),
    icon: 'settings-gear',
    ...(path && path.startsWith('/') ? { open: path } : {}),
  };
}

function codeRow(d: RunDetail): DetailRow {
  const v = d.codeVersion;
  if (!v) return { label: 'Code', description: 'not recorded', icon: 'git-commit' };
  const where = [v.branch, v.commit ? v.commit.slice(0, 7) : 'no commit'].filter(Boolean).join(' @ ');
  return { label: 'Code', description: `${where}${v.dirty ? ' (dirty)' : ''}`, tooltip: v.remote ?? undefined, icon: 'git-commit' };
}

function datasetRows(d: RunDetail, datasetPaths: ReadonlyMap<string, string>): DetailRow[] {
  return d.datasets.map((v) => ({
    key: v.id,
    label: datasetPaths.get(v.datasetId) ?? `dataset ${shortHash(v.hash)}`,
    description: `${shortHash(v.hash)} · ${formatBytes(v.sizeBytes)}${v.fileCount > 1 ? ` · ${v.fileCount} files` : ''}`,
    icon: 'database',
  }));
}

/** "step 250", or "step 250 (outputs)" for final weights saved outside a `checkpoint-N` folder. */
export function checkpointLabel(c: Checkpoint): string {
  const folder = c.location.replace(/\/+$/, '').split('/').pop() ?? c.location;
  if (c.step === null) return folder;
  return folder === `checkpoint-${c.step}` ? `step ${c.step}` : `step ${c.step} (${folder})`;
}

/** True for a checkpoint on disk: one seen gone (`deletedAt`) is history, never offered for tag, pull or eval. */
export function isPresent(c: Checkpoint): boolean {
  return c.deletedAt == null;
}

/**
 * One row per checkpoint, present ones with the Pull/Tag menus (`keel.checkpoint`); a deleted
 * one stays as history (`keel.checkpoint.deleted`, which no menu offers), said in its label.
 */
function checkpointRows(d: RunDetail): DetailRow[] {
  const sorted = [...d.checkpoints].sort((a, b) => (a.step ?? -1) - (b.step ?? -1));
  return sorted.map((c) => {
    const present = isPresent(c);
    const also = (c.locations ?? []).filter((l) => l.deletedAt === null).map((l) => l.location);
    return {
      key: c.id,
      label: checkpointLabel(c),
      description: [present ? '' : 'deleted from disk', c.final ? 'final model' : '', c.kind !== 'unknown' ? c.kind : '', formatBytes(c.sizeBytes), shortHash(c.hash)]
        .filter(Boolean).join(' · '),
      tooltip: [c.location, ...also.map((l) => `also at ${l}`), present ? '' : 'Deleted from disk (kept as history): it cannot be pulled, tagged or evaluated.']
        .filter(Boolean).join('\n'),
      icon: present ? 'package' : 'trash',
      contextValue: present ? 'keel.checkpoint' : 'keel.checkpoint.deleted',
      checkpoint: c,
    };
  });
}

/** "acc 0.8123 ± 0.0100" with the filter when it is not the default. */
export function evalValue(e: EvalResult): string {
  const filter = e.filter && e.filter !== 'none' ? ` (${e.filter})` : '';
  const stderr = e.stderr !== null ? ` ± ${formatValue(e.stderr)}` : '';
  return `${e.metric}${filter} ${formatValue(e.value)}${stderr}`;
}

function evalRows(d: RunDetail): DetailRow[] {
  const sorted = [...d.evals].sort((a, b) => Number(b.isGroup) - Number(a.isGroup) || a.task.localeCompare(b.task) || a.metric.localeCompare(b.metric));
  return sorted.map((e) => ({
    key: e.id,
    label: e.task,
    description: evalValue(e),
    tooltip: e.sourcePath ?? undefined,
    icon: e.isGroup ? 'list-tree' : 'beaker',
    ...(e.sourcePath ? { open: e.sourcePath } : {}),
  }));
}

/**
 * GPU time and cost (`runs/get`'s usage): GPU-hours of every attempt that started, × the host's
 * `--cost-per-hour` when it has one. Left out for a daemon too old to say and for runs Keel did
 * not launch (watched, imported).
 */
function usageRow(d: RunDetail): DetailRow[] {
  if (d.usage === undefined) return [];
  const u = d.usage;
  // A watched or imported run had no Keel attempts: nothing to say. A launched one may not have started yet.
  if (u === null) return d.run.source === 'launch' ? [{ label: 'GPU time', description: 'none yet (no attempt started)', icon: 'dashboard' }] : [];
  return [{
    label: 'GPU time',
    description: usageLine(u),
    tooltip: `${plural(u.attempts, 'attempt')}, ${duration(u.seconds * 1000)} of wall time × the GPUs each had${u.cost === null ? '\nNo cost: the host has no --cost-per-hour.' : '\nCost: GPU-hours × the host\'s --cost-per-hour.'}`,
    icon: 'dashboard',
  }];
}

function section(label: string, icon: string, rows: DetailRow[]): DetailRow {
  return rows.length
    ? { label, description: String(rows.length), icon, children: rows }
    : { label, description: 'none', icon };
}

/** The rows under a run, in the order people look for them. */
export function runDetailRows(d: RunDetail, datasetPaths: ReadonlyMap<string, string> = new Map(), display: PathDisplay = (p) => p): DetailRow[] {
  return [
    configRow(d, display),
    section('Datasets', 'database', datasetRows(d, datasetPaths)),
    codeRow(d),
    section('Checkpoints', 'package', checkpointRows(d)),
    section('Evals', 'beaker', evalRows(d)),
    ...usageRow(d),
  ];
}
