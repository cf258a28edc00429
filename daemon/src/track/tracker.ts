/**
 * Tracking for every registered project: watches its keel.yaml globs, and turns changes
 * into records — dataset versions, configs, runs from output folders, eval results — then
 * links each run to the config, data, code and base model that produced it.
 *
 * Each project has its own debounced serial queue, and a small global limit ({@link JobSlots})
 * caps jobs running at once, so one project's slow job (a huge dataset being hashed) never
 * stops another project's. Hashing runs in worker threads and every walk is asynchronous, so
 * the main loop stays free. Watching and unwatching a project are serialized per project:
 * twenty concurrent registrations leave exactly one watcher.
 */
import { existsSync, realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
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
import { expandGlob, isIgnoredPath } from './watch/expand.ts';
import { matchingAncestor, type CompiledGlob } from './watch/glob.ts';
import { JobSlots, WorkQueue } from './watch/work-queue.ts';
import { describeFileType } from './input-file.ts';
import { publishPoints, type Publish } from './publish.ts';
import { storeProjectFile } from '../projects/record-project.ts';
import { RunLifecycle } from '../runs/lifecycle.ts';

export interface TrackerDeps {
  store: Store;
  log: Logger;
  pool: HashPool;
  hashCache: HashCache;
  publish: Publish;
  /** Paths never watched (the daemon's own home). */
  exclude: string[];
  quietMs?: number;
  /** Tracking jobs running at once across all projects; default 2 (the hash pool's size). */
  concurrentJobs?: number;
  /** The owner of run status changes and `runs` notifications; default: one over `store` and `publish`. */
  lifecycle?: RunLifecycle;
}

interface WatchedProject {
  project: Project;
  spec: KeelProject;
  globs: ProjectGlobs;
  watcher: ProjectWatcher;
}

const EMPTY_SPEC = { datasets: [], configs: [], outputs: [], evals: [], ignore: [] };

export class Tracker {
  private readonly deps: TrackerDeps;
  private readonly slots: JobSlots;
  private readonly queues = new Map<string, WorkQueue>();
  private readonly projects = new Map<string, WatchedProject>();
  /** Per project, the tail of its watch/unwatch steps: they run one after another. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Per project, the number of the latest watch/unwatch request: an older step still queued does nothing. */
  private readonly requests = new Map<string, number>();
  private readonly openWatchers = new Set<ProjectWatcher>();
  /** Scans and closing queues in flight. */
  private readonly background = new Set<Promise<void>>();
  /** Aborted by close(): hashing stops, queued steps do nothing. */
  private readonly stopping = new AbortController();
  /** Non-regular files already reported, so a FIFO is one event, not one per look. */
  private readonly reportedFiles = new Set<string>();
  readonly ingester: RunIngester;
  private readonly lifecycle: RunLifecycle;

  constructor(deps: TrackerDeps) {
    this.deps = deps;
    this.slots = new JobSlots(deps.concurrentJobs ?? 2);
    this.lifecycle = deps.lifecycle ?? new RunLifecycle({ store: deps.store, publish: deps.publish, log: deps.log });
    this.ingester = new RunIngester({
      store: deps.store, hasher: deps.pool, hashCache: deps.hashCache, log: deps.log, statuses: this.lifecycle,
      onNewPoints: (runId, points) => publishPoints(deps.publish, runId, points),
      onIngestStopped: (runId, err) => this.markIncomplete(runId, `ingestion stopped: ${err.message}`),
    });
  }

  /** File watchers open now: one per watched project (tests and `daemon/status` checks). */
  get watcherCount(): number {
    return this.openWatchers.size;
  }

  /**
   * Starts (or restarts, after keel.yaml changed) watching a project, and scans it once.
   * A project whose keel.yaml is broken is still watched, for the fix. Calls for one project
   * never overlap; when several are waiting, only the latest takes effect.
   */
  watchProject(project: Project): Promise<void> {
    const request = this.nextRequest(project.id);
    return this.serialized(project.id, async () => {
      if (this.stopping.signal.aborted || this.requests.get(project.id) !== request) return;
      await this.startWatching(project);
    });
  }

  /** Stops watching a project and drops its pending work (a running job finishes on its own). */
  unwatchProject(projectId: string): Promise<void> {
    this.nextRequest(projectId);
    return this.serialized(projectId, async () => {
      await this.stopWatching(projectId);
      const queue = this.queues.get(projectId);
      this.queues.delete(projectId);
      // Not awaited (a long hash must not hold up projects/remove), but close() waits for it.
      if (queue) this.track(queue.close());
    });
  }

  private nextRequest(projectId: string): number {
    const n = (this.requests.get(projectId) ?? 0) + 1;
    this.requests.set(projectId, n);
    return n;
  }

  /** Runs `step` after the project's earlier steps, whether they succeeded or not. */
  private serialized(projectId: string, step: () => Promise<void>): Promise<void> {
    const run = (this.chains.get(projectId) ?? Promise.resolve()).then(step);
    const tail = run.catch(() => undefined);
    this.chains.set(projectId, tail);
    void tail.then(() => {
      if (this.chains.get(projectId) === tail) this.chains.delete(projectId);
    });
    return run;
  }

  private async startWatching(project: Project): Promise<void> {
    await this.stopWatching(project.id);
    if (this.stopping.signal.aborted) return;
    const stored = this.deps.store.projects.config(project.id) as KeelProject | undefined;
    if (!stored) this.deps.log.warn('project not watched: keel.yaml has errors', { project: project.id, errors: project.configErrors });
    const spec: KeelProject = stored ?? { name: project.name, ...EMPTY_SPEC };
    const globs = compileProjectGlobs(spec, (err) => this.deps.log.warn('glob left out', { project: project.id, error: err.message }));
    const watcher = new ProjectWatcher(project.root, globs, {
      onChange: (c) => this.onChange(project.id, c),
      onError: (err) => this.deps.log.warn('watcher error', { project: project.id, error: err.message }),
      exclude: this.deps.exclude,
    });
    this.openWatchers.add(watcher);
    this.projects.set(project.id, { project, spec, globs, watcher });
    await watcher.start();
    if (stored) this.track(this.scan(project.id));
  }

  private async stopWatching(projectId: string): Promise<void> {
    const w = this.projects.get(projectId);
    this.projects.delete(projectId);
    if (!w) return;
    await w.watcher.close();
    this.openWatchers.delete(w.watcher);
  }

  /** Keeps background work (a scan, a closing queue) where idle() and close() wait for it. */
  private track(work: Promise<void>): void {
    const done = work.catch((err: unknown) => this.deps.log.error('tracking step failed', { error: (err as Error).message }));
    this.background.add(done);
    void done.then(() => this.background.delete(done));
  }

  /** Schedules every current match of the project's globs (datasets and configs first). */
  private async scan(projectId: string): Promise<void> {
    const w = this.projects.get(projectId);
    if (!w) return;
    const kinds: [TrackedChange['kind'], CompiledGlob[]][] = [
      ['dataset', w.globs.datasets], ['config', w.globs.configs], ['run', w.globs.outputs], ['eval', w.globs.evals],
    ];
    for (const [kind, globs] of kinds) {
      for (const glob of globs) {
        const found = await this.expand(w, glob);
        if (this.projects.get(projectId) !== w) return; // re-watched meanwhile: that scan takes over
        for (const rel of found) this.onChange(projectId, { kind, relPath: rel }, true);
      }
    }
  }

  private async expand(w: WatchedProject, glob: CompiledGlob): Promise<string[]> {
    const found = await expandGlob(w.project.root, glob, {
      signal: this.stopping.signal,
      onLimit: (message) => this.deps.log.warn('glob walk stopped', { project: w.project.id, glob: glob.source, message }),
    });
    return found.filter((rel) => !isIgnoredPath(rel) && matchingAncestor(w.globs.ignore, rel) === undefined);
  }

  private onChange(projectId: string, change: TrackedChange, immediate = false): void {
    const key = `${change.kind}:${change.relPath}`;
    this.queueFor(projectId).schedule(key, () => this.apply(projectId, change), immediate);
  }

  private queueFor(projectId: string): WorkQueue {
    let queue = this.queues.get(projectId);
    if (!queue) {
      queue = new WorkQueue({
        quietMs: this.deps.quietMs ?? 400,
        maxWaitMs: 5_000,
        slots: this.slots,
        onError: (key, err) => {
          if (this.stopping.signal.aborted) return; // cancelled by shutdown, not a failure
          this.deps.log.error('tracking failed', { project: projectId, key, error: (err as Error).message, stack: (err as Error).stack });
        },
      });
      this.queues.set(projectId, queue);
    }
    return queue;
  }

  private async apply(projectId: string, change: TrackedChange): Promise<void> {
    const w = this.projects.get(projectId);
    if (!w) return;
    const abs = join(w.project.root, change.relPath);
    switch (change.kind) {
      case 'project-file':
        this.deps.publish('projects', { projectId, change: 'updated' });
        await this.reloadProject(projectId);
        return;
      case 'dataset':
        return this.applyDataset(w, change, abs);
      case 'config':
        if (!(await this.isInput(projectId, abs, 'training config', 'configs'))) return;
        await trackConfig({ store: this.deps.store }, { id: projectId, root: w.project.root }, abs);
        return;
      case 'run': {
        if (!(await stat(abs).then((st) => st.isDirectory(), () => false))) return;
        if (this.deletedRunFolder(abs)) return;
        const report = await this.ingestRun(projectId, abs, 'watch');
        // Checkpoint folders seen once are registered on a second, unchanged look.
        if (report.pending.length > 0) {
          setTimeout(() => this.onChange(projectId, change), this.deps.quietMs ? this.deps.quietMs * 5 : 3_000).unref();
        }
        return;
      }
      case 'eval':
        if (!(await this.isInput(projectId, abs, 'eval results file', 'evals'))) return;
        await this.ingester.ingestEvalFile(abs, { projectId });
        return;
    }
  }

  private async applyDataset(w: WatchedProject, change: TrackedChange, abs: string): Promise<void> {
    const projectId = w.project.id;
    if (!(await this.isInput(projectId, abs, 'dataset', 'datasets', true))) return;
    const r = await trackDataset({
      store: this.deps.store, hasher: this.deps.pool, hashCache: this.deps.hashCache, signal: this.stopping.signal,
      onProgress: (p) => this.deps.publish('progress', { task: 'hash', id: abs, done: p.bytesDone, total: p.bytesTotal, unit: 'bytes', message: p.currentPath }),
    }, { id: projectId, root: w.project.root }, abs);
    this.deps.publish('progress', { task: 'hash', id: abs, done: 1, total: 1, unit: 'items', finished: true });
    if (r.retry) {
      // A file changed or vanished while it was hashed: look again once it settles.
      this.onChange(projectId, change);
      return;
    }
    if (r.created || r.reactivated) {
      this.deps.log.info('dataset version', { path: change.relPath, hash: r.version?.hash ?? null, skipped: r.skipped.length });
      // Configs that name this dataset now point at its new version.
      for (const g of w.globs.configs) for (const rel of await this.expand(w, g)) this.onChange(projectId, { kind: 'config', relPath: rel });
    }
  }

  /**
   * True when `abs` is a regular file (or, with `folders`, a folder). Anything else matched by
   * a glob (a FIFO, a device, a socket) is never opened: it is reported once, as a warning
   * event, and left out. Reading the file still goes through input-file.ts, for the race.
   */
  private async isInput(projectId: string, abs: string, what: string, key: string, folders = false): Promise<boolean> {
    const st = await stat(abs).catch(() => undefined);
    if (!st) return false;
    if (st.isFile() || (folders && st.isDirectory())) {
      this.reportedFiles.delete(abs);
      return true;
    }
    if (!st.isDirectory() && !this.reportedFiles.has(abs)) {
      this.reportedFiles.add(abs);
      const message = `${what} ${abs} is ${describeFileType(st)}, not a regular file; Keel left it out. Replace it with a file, or keep it out of the ${key}: globs in keel.yaml.`;
      this.deps.log.warn('file left out', { project: projectId, path: abs, type: describeFileType(st) });
      this.deps.store.events.add({ kind: 'file_skipped', severity: 'warning', message, data: { projectId, path: abs } });
    }
    return false;
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
    await linkRun({ store: this.deps.store, log: this.deps.log, hasher: this.deps.pool, hashCache: this.deps.hashCache }, report.runId, project ? { id: project.id, root: project.root } : null);
    if (report.points > 0 || report.created) this.lifecycle.changed(report.runId);
    return report;
  }

  /**
   * A run whose record stops short of its files: `incomplete`, with the reason, told to the
   * views and as an event. Best effort: on a full disk even this write may fail (the run then
   * keeps the status it had, which is never `succeeded` for an ingest that stopped).
   */
  markIncomplete(runId: string, reason: string): void {
    this.lifecycle.markIncomplete(runId, reason);
  }

  /**
   * The output folder of a run the user deleted (a tombstone): the watcher leaves it alone;
   * `keel import` of the folder brings it back on purpose.
   */
  private deletedRunFolder(abs: string): boolean {
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      return false;
    }
    const { runs } = this.deps.store;
    if (runs.findByOutputDir(real) || !runs.isDeletedOutput(real)) return false;
    this.deps.log.debug('not tracking the output folder of a deleted run', { dir: real });
    return true;
  }

  /**
   * At daemon start: imports a stopped daemon left half done are `incomplete` with the reason
   * "import interrupted"; each is resumed from its cursors in the background (ingestion is
   * idempotent), and stays incomplete with the reason if it fails again.
   */
  resumeInterruptedImports(): void {
    for (const run of this.deps.store.runs.interruptedImports()) {
      const dir = run.outputDir;
      const resumable = dir !== null && existsSync(dir);
      this.deps.store.events.add({
        kind: 'import_interrupted', severity: 'warning', runId: run.id,
        message: `the daemon stopped during the import of ${dir ?? run.name}; ${resumable ? 'resuming it' : `the folder is gone, so it stays incomplete (${run.statusReason ?? ''})`}`,
      });
      if (!resumable) continue;
      this.track(this.ingestRun(run.projectId, dir, 'import', { runId: run.id }).then(
        () => this.deps.log.info('interrupted import resumed', { run: run.id, dir }),
        (err: Error) => this.deps.log.warn('cannot resume an interrupted import', { run: run.id, dir, error: err.message }),
      ));
    }
  }

  /** Resolves when no project has work pending or running and no scan or watch step is in flight. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.queues.values()].filter((q) => !q.isIdle());
      const waits = [...this.chains.values(), ...this.background, ...busy.map((q) => q.idle())];
      if (waits.length === 0) return;
      await Promise.all(waits);
    }
  }

  /** Stops hashing, waits for running jobs and watch steps to end, and closes every watcher. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all([...this.chains.values(), ...this.background]);
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await Promise.all([...this.projects.keys()].map((id) => this.stopWatching(id)));
  }
}
