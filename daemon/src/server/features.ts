/**
 * The daemon's features: run tracking (watchers, ingest, hashing), dispatch (SSH, Slurm, job
 * followers), the run lifecycle, and the protocol methods that use them. server/daemon.ts
 * imports this module only after its socket listens (a dynamic import; in the bundle, an
 * inline module evaluated on that first use): none of it is needed to answer `initialize`,
 * `daemon/status` or `daemon/shutdown`, and evaluating it — yaml, simple-git, chokidar,
 * hash-wasm and Keel's own tracker and dispatcher — was about half of the time from the
 * process start to the first answer. A request for one of its methods that comes before it
 * is loaded waits for it (server/methods.ts).
 */
import type { DaemonContext } from './daemon.ts';
import type { Handlers } from './handlers.ts';
import type { Publish } from '../track/publish.ts';
import { Tracker } from '../track/tracker.ts';
import { createHashPool, type HashPool } from '../track/hash/index.ts';
import { createParsePool, installParsePool, type ParsePool } from '../work/index.ts';
import { Dispatcher } from '../dispatch/dispatcher.ts';
import { dispatchSettings } from '../dispatch/settings.ts';
import { RunLifecycle } from '../runs/lifecycle.ts';
import { projectHandlers } from '../projects/handlers.ts';
import { runHandlers } from '../runs/handlers.ts';
import { runPageHandlers } from '../runs/page-handlers.ts';
import { lineageHandlers } from '../lineage/handlers.ts';
import { dispatchHandlers } from '../dispatch/handlers.ts';

/**
 * The context the features' code is built with: the daemon's, and the tracker, dispatcher and
 * run lifecycle that startFeatures makes. Only code loaded with the features gets one, so
 * nothing can read these before they exist.
 */
export interface FeatureContext extends DaemonContext {
  tracker: Tracker;
  dispatcher: Dispatcher;
  /** The one owner of run status changes and `runs` notifications. */
  lifecycle: RunLifecycle;
}

/** What the features add to a running daemon: their methods, and their worker threads (closed at shutdown). */
export interface Features {
  handlers: Partial<Handlers>;
  pools: { hash: HashPool; parse: ParsePool };
  tracker: Tracker;
  dispatcher: Dispatcher;
}

/**
 * Sets up the features on a listening daemon (the run lifecycle, the tracker, the dispatcher
 * and the FeatureContext their methods are built with), starts the dispatcher, watches every
 * registered project and resumes interrupted imports.
 */
export function startFeatures(daemon: DaemonContext): Features {
  const { store, log, paths } = daemon;
  const hash = createHashPool();
  const parse = createParsePool();
  installParsePool(parse);
  const publish: Publish = (topic, params, runId) => daemon.server.publish(topic, params, runId);
  const lifecycle = new RunLifecycle({ store, log, publish });
  const tracker = new Tracker({ store, log, pool: hash, hashCache: store.fileHashes, exclude: [paths.home], publish, lifecycle });
  const dispatcher = new Dispatcher({
    store, log, pool: hash, tracker, lifecycle, publish, keelHome: paths.home, controlDir: paths.controlDir, ...dispatchSettings(),
  });
  // A context of its own: the daemon's keeps the type it has had since the socket listened
  // (its server and shutdown are set by then and never change).
  const ctx: FeatureContext = { ...daemon, lifecycle, tracker, dispatcher };
  const handlers: Partial<Handlers> = {
    ...projectHandlers(ctx),
    ...runHandlers(ctx),
    ...runPageHandlers(ctx),
    ...lineageHandlers(ctx),
    ...dispatchHandlers(ctx),
  };
  dispatcher.start();
  // A large project must not delay anything: watching goes on in the background.
  for (const project of store.projects.list()) {
    void tracker.watchProject(project).catch((err: Error) => log.error('cannot watch project', { project: project.id, error: err.message }));
  }
  tracker.resumeInterruptedImports();
  return { handlers, pools: { hash, parse }, tracker, dispatcher };
}
