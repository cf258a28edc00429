/**
 * Tracking for every registered project: watches its keel.yaml globs, and turns changes
 * into records — dataset versions, configs, runs from output folders, eval results — then
 * links each run to the config, data, code and base model that produced it.
 * All work goes through one debounced serial queue; hashing runs in worker threads.
 */
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../protocol/index.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/index.ts';
import type { HashCache, HashPool } from './hash/index.ts';
import type { KeelProject } from './project/keel-yaml.ts';
import { trackDataset } from './datasets/index.ts';
import { trackConfig } from './config/track-config.ts';
import { RunIngester, type IngestReport } from './ingest/index.ts';
import { linkRun } from './link-run.ts';
import { compileProjectGlobs, ProjectWatcher, type ProjectGlobs, type TrackedChange } from './watch/project-watcher.ts';
import { expandGlob } from './watch/expand.ts';
import { compileGlob } from './watch/glob.ts';
import { WorkQueue } from './watch/work-queue.ts';
import { publishPoints, type Publish } from './publish.ts';
import { storeProjectFile } from '../projects/record-project.ts';

export interface TrackerDeps {
  store: Store;
  log: Logger;
  pool: HashPool;
  hashCache: HashCache;
  publish: Publish;
  /** Paths never watched (the daemon's own home). */
  exclude: string[];
  quietMs?: number;
}

interface WatchedProject {
  project: Project;
  spec: KeelProject;
  globs: ProjectGlobs;
  watcher: ProjectWatcher;
}

export class Tracker {
  private readonly deps: TrackerDeps;
  private readonly queue: WorkQueue;
  private readonly projects = new Map<string, WatchedProject>();
  readonly ingester: RunIngester;

  constructor(deps: TrackerDeps) {
    this.deps = deps;
    this.queue = new WorkQueue({
      quietMs: deps.quietMs ?? 400,
      maxWaitMs: 5_000,
      onError: (key, err) => deps.log.error('tracking failed', { key, error: (err as Error).message, stack: (err as Error).stack }),
    });
    this.ingester = new RunIngester({
      store: deps.store, hasher: deps.pool, hashCache: deps.hashCache, log: deps.log,
      onNewPoints: (runId, points) => publishPoints(deps.publish, runId, points),
    });
  }

  /**
   * Starts (or restarts, after keel.yaml changed) watching a project, and scans it once.
   * A project whose keel.yaml is broken is still watched, for the fix.
   */
  async watchProject(project: Project): Promise<void> {
    await this.unwatchProject(project.id);
    const stored = this.deps.store.projects.config(project.id) as KeelProject | undefined;
    if (!stored) this.deps.log.warn('project not watched: keel.yaml has errors', { project: project.id, errors: project.configErrors });
    const spec: KeelProject = stored ?? { name: project.name, datasets: [], configs: [], outputs: [], evals: [], ignore: [] };
    const globs = compileProjectGlobs(spec);
    const watcher = new ProjectWatcher(project.root, globs, {
      onChange: (c) => this.onChange(project.id, c),
      onError: (err) => this.deps.log.warn('watcher error', { project: project.id, error: err.message }),
      exclude: this.deps.exclude,
    });
    this.projects.set(project.id, { project, spec, globs, watcher });
    await watcher.start();
    if (stored) this.scan(project.id);
  }

  async unwatchProject(projectId: string): Promise<void> {
    const w = this.projects.get(projectId);
    this.projects.delete(projectId);
    if (w) await w.watcher.close();
  }

  /** Schedules every current match of the project's globs (datasets and configs first). */
  scan(projectId: string): void {
    const w = this.projects.get(projectId);
    if (!w) return;
    const kinds: [TrackedChange['kind'], readonly string[]][] = [
      ['dataset', w.spec.datasets], ['config', w.spec.configs], ['run', w.spec.outputs], ['eval', w.spec.evals],
    ];
    for (const [kind, globs] of kinds) {
      for (const g of globs.map((x) => compileGlob(x))) {
        for (const rel of expandGlob(w.project.root, g)) this.onChange(projectId, { kind, relPath: rel }, true);
      }
    }
  }

  private onChange(projectId: string, change: TrackedChange, immediate = false): void {
    const key = `${projectId}:${change.kind}:${change.relPath}`;
    this.queue.schedule(key, () => this.apply(projectId, change), immediate);
  }

  private async apply(projectId: string, change: TrackedChange): Promise<void> {
    const w = this.projects.get(projectId);
    if (!w) return;
    const abs = join(w.project.root, change.relPath);
    const project = { id: projectId, root: w.project.root };
    switch (change.kind) {
      case 'project-file':
        this.deps.publish('projects', { projectId, change: 'updated' });
        await this.reloadProject(projectId);
        return;
      case 'dataset': {
        if (!existsSync(abs)) return;
        const r = await trackDataset({
          store: this.deps.store, hasher: this.deps.pool, hashCache: this.deps.hashCache,
          onProgress: (p) => this.deps.publish('progress', { task: 'hash', id: abs, done: p.bytesDone, total: p.bytesTotal, unit: 'bytes', message: p.currentPath }),
        }, project, abs);
        this.deps.publish('progress', { task: 'hash', id: abs, done: 1, total: 1, unit: 'items', finished: true });
        if (r.retry) {
          // A file changed or vanished while it was hashed: look again once it settles.
          this.onChange(projectId, change);
          return;
        }
        if (r.created || r.reactivated) {
          this.deps.log.info('dataset version', { path: change.relPath, hash: r.version?.hash ?? null });
          // Configs that name this dataset now point at its new version.
          for (const g of w.globs.configs) for (const rel of expandGlob(w.project.root, g)) this.onChange(projectId, { kind: 'config', relPath: rel });
        }
        return;
      }
      case 'config':
        if (!existsSync(abs)) return;
        await trackConfig({ store: this.deps.store }, project, abs);
        return;
      case 'run': {
        if (!existsSync(abs)) return;
        const report = await this.ingestRun(projectId, abs, 'watch');
        // Checkpoint folders seen once are registered on a second, unchanged look.
        if (report.pending.length > 0) {
          setTimeout(() => this.onChange(projectId, change), this.deps.quietMs ? this.deps.quietMs * 5 : 3_000).unref();
        }
        return;
      }
      case 'eval':
        if (!existsSync(abs)) return;
        await this.ingester.ingestEvalFile(abs, { projectId });
        return;
    }
  }

  private async reloadProject(projectId: string): Promise<void> {
    const w = this.projects.get(projectId);
    if (!w) return;
    const { project } = await storeProjectFile(this.deps.store, w.project.root);
    await this.watchProject(project);
  }

  /** Ingests a run folder now and links it; used by the watcher, `keel import` and dispatch. */
  async ingestRun(projectId: string | null, dir: string, source: 'watch' | 'import' | 'launch', extra: { runId?: string; name?: string; checkpoints?: boolean } = {}): Promise<IngestReport> {
    const real = realpathSync(dir);
    const report = await this.ingester.ingestRunDir(real, { projectId, source, ...extra });
    const project = projectId ? this.deps.store.projects.get(projectId) : undefined;
    await linkRun({ store: this.deps.store, log: this.deps.log }, report.runId, project ? { id: project.id, root: project.root } : null);
    if (report.points > 0 || report.created) {
      const run = this.deps.store.runs.get(report.runId);
      if (run) this.deps.publish('runs', { runId: run.id, status: run.status, unreachableSince: run.unreachableSince, statusReason: run.statusReason }, run.id);
    }
    return report;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async close(): Promise<void> {
    await this.queue.close();
    await Promise.all([...this.projects.keys()].map((id) => this.unwatchProject(id)));
  }
}
