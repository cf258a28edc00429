/**
 * The daemon process: takes the per-user lock, opens the store, serves the socket, and
 * shuts down cleanly on SIGTERM/SIGINT or `daemon/shutdown` (in-flight requests finish,
 * the database is checkpointed and closed, the socket and lock are removed).
 */
import { existsSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ensureHome, keelPaths, type KeelPaths } from '../home/paths.ts';
import { acquireLock } from '../home/lock.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { PROTOCOL_VERSION, type DaemonStatus } from '../protocol/index.ts';
import { Store } from '../store/index.ts';
import { RpcServer } from './server.ts';
import { buildHandlers } from './methods.ts';
import { KEEL_VERSION } from '../version.ts';
// A type only: the features (tracker, dispatcher, run lifecycle) load after the socket listens.
import type { Features } from './features.ts';
import { DEFAULT_SEND_LIMITS, type SendLimits } from './outbox.ts';
import { exitIfStillAlive, runShutdownSteps, ShutdownReport, type ShutdownStep } from './shutdown.ts';
import { CRASH_EXIT_CODE, installCrashHandlers } from './crash.ts';

/**
 * Exit codes of `keel daemon`: 0 clean stop, 3 already running, 4 unusable home or database,
 * 70 stopped after an uncaught exception (crash.ts); a second signal during the shutdown
 * exits with 128 + the signal number.
 */
export const DaemonExit = { Ok: 0, AlreadyRunning: 3, Unusable: 4, Crashed: CRASH_EXIT_CODE } as const;

/**
 * What the daemon has from the moment its socket listens. The tracker, the dispatcher and the
 * run lifecycle exist only once the features have started: the features' code gets them in a
 * FeatureContext (server/features.ts), and the daemon's own code (status, shutdown, the
 * stand-ins of server/methods.ts) cannot reach them.
 */
export interface DaemonContext {
  paths: KeelPaths;
  store: Store;
  log: Logger;
  server: RpcServer;
  startedAt: number;
  status(): DaemonStatus;
  /** Stops the daemon (once; later calls return the same promise) and ends the process with `exitCode` (default 0). */
  shutdown(reason: string, exitCode?: number): Promise<void>;
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * Milliseconds since the process started (performance.now()'s origin) at each step of the
 * start, for the `daemon ready` log line: where a slow start went.
 */
interface StartTimes {
  /** Node's own start, until it ran the first file. */
  node: number;
  /** The daemon bundle loaded and evaluated (runDaemon called). */
  loaded: number;
  /** keel.db opened (checked, migrated). */
  store?: number;
}

export async function runDaemon(opts: { foreground: boolean }): Promise<number> {
  const times: StartTimes = { node: round(performance.nodeTiming.bootstrapComplete), loaded: round(performance.now()) };
  // A background daemon's stderr is a pipe its starter closes once it is ready: never die of EPIPE.
  process.stderr.on('error', () => {});
  process.stdout.on('error', () => {});
  const paths = keelPaths();
  try {
    ensureHome(paths);
  } catch (err) {
    process.stderr.write(`keel daemon: ${(err as Error).message}\n`);
    return DaemonExit.Unusable;
  }
  const log = createLogger(paths.log, { stderr: opts.foreground, level: process.env.KEEL_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  const lock = acquireLock(paths.lock, (holder) => log.warn('taking over a stale daemon lock', { stalePid: holder?.pid ?? null }));
  if (!lock.acquired) {
    process.stderr.write(`keel daemon: already running (pid ${lock.holder.pid}, socket ${paths.socket})\n`);
    return DaemonExit.AlreadyRunning;
  }
  if (existsSync(paths.socket)) {
    if (await socketAnswers(paths.socket)) {
      lock.release();
      process.stderr.write(`keel daemon: another daemon answers on ${paths.socket}\n`);
      return DaemonExit.AlreadyRunning;
    }
    log.warn('removing a stale socket', { socket: paths.socket });
    unlinkSync(paths.socket);
  }
  let store: Store;
  try {
    store = new Store(paths.db);
    times.store = round(performance.now());
  } catch (err) {
    log.error('cannot open the database', { db: paths.db, error: (err as Error).message });
    process.stderr.write(`keel daemon: ${(err as Error).message}\n`);
    lock.release();
    return DaemonExit.Unusable;
  }
  return serve(paths, store, log, lock.release, times);
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * How long after the socket listens the features load when no request has asked for them
 * yet: long enough for the client that started the daemon to have its first answers (it
 * connects within a few ms), short enough that nothing waits on it (the dispatcher places
 * queued jobs and the watchers start then; both take far longer themselves).
 * KEEL_FEATURES_AFTER_MS changes it (tests hold the features back to see requests wait).
 */
const FEATURES_AFTER_MS = 100;

/**
 * Loads the features (server/features.ts) once: on the first request for one of their
 * methods, or FEATURES_AFTER_MS after the socket listens, whichever comes first — never once
 * the daemon is stopping. A failure to start them is a bug: logged, and the daemon stops as
 * after an uncaught exception (exit 70) so a fresh one takes over.
 */
interface FeatureLoader {
  load(trigger: 'request' | 'timer'): Promise<Features>;
  /** Loads them `ms` from now unless something has by then. */
  loadSoon(ms: number): void;
  /** The daemon is stopping: no load begins after this. */
  stop(): void;
  loaded: LoadedFeatures;
}

function featureLoader(ctx: DaemonContext, started: (features: Features) => void): FeatureLoader {
  let loading: Promise<Features> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  const load = (trigger: 'request' | 'timer'): Promise<Features> => (loading ??= (async () => {
    clearTimeout(timer);
    const t0 = performance.now();
    try {
      const { startFeatures } = await import('./features.ts');
      const features = startFeatures(ctx);
      started(features);
      ctx.log.info('daemon features started', { trigger, ms: round(performance.now() - t0), sinceStartMs: round(performance.now()) });
      return features;
    } catch (err) {
      ctx.log.error('cannot start the daemon features: stopping (exit 70) so a fresh daemon takes over', { error: (err as Error).message, stack: (err as Error).stack ?? null });
      void ctx.shutdown('the daemon features failed to start', DaemonExit.Crashed);
      throw err;
    }
  })());
  return {
    load,
    loadSoon: (ms) => {
      timer = setTimeout(() => { if (!stopping) load('timer').catch(() => { /* logged, and the daemon stops */ }); }, ms);
    },
    stop: () => {
      stopping = true;
      clearTimeout(timer);
    },
    loaded: async () => (loading ? loading.catch(() => null) : null),
  };
}

/** Per-client send budgets; KEEL_SLOW_CLIENT_SECONDS shortens how long a client may stay over its soft budget. */
function sendLimits(slowClientSeconds: number | undefined): SendLimits {
  return slowClientSeconds !== undefined && slowClientSeconds > 0 ? { ...DEFAULT_SEND_LIMITS, stallMs: slowClientSeconds * 1000 } : DEFAULT_SEND_LIMITS;
}

/** The features once loaded, for the shutdown: null when they never started (a daemon stopped within its first moments) or failed to. */
type LoadedFeatures = () => Promise<Features | null>;

/** The shutdown steps, in order, each with its own timeout (the sum stays under `keel daemon stop`'s wait). */
function shutdownSteps(ctx: DaemonContext, features: LoadedFeatures): ShutdownStep[] {
  return [
    {
      name: 'closing the socket and finishing in-flight requests', timeoutMs: 12_000, run: () => ctx.server.close(),
      detail: () => {
        const methods = ctx.server.inFlightMethods;
        return methods.length ? `${methods.length} in-flight request${methods.length > 1 ? 's' : ''}: ${[...new Set(methods)].join(', ')}` : null;
      },
    },
    { name: 'stopping the dispatcher (job followers, SSH connections)', timeoutMs: 5_000, run: async () => { await (await features())?.dispatcher.close(); } },
    { name: 'stopping the tracker (file watchers, ingest queue)', timeoutMs: 5_000, run: async () => { await (await features())?.tracker.close(); } },
    { name: 'stopping the hash workers', timeoutMs: 5_000, run: async () => { await (await features())?.pools.hash.close(); } },
    { name: 'stopping the parse workers', timeoutMs: 5_000, run: async () => { await (await features())?.pools.parse.close(); } },
    {
      name: 'checkpointing and closing the database', timeoutMs: 10_000,
      run: () => {
        ctx.store.meta.set('last_clean_shutdown', new Date().toISOString());
        ctx.store.close();
      },
    },
  ];
}

/** SIGTERM/SIGINT/SIGHUP stop the daemon; a second one during the shutdown forces the exit. */
function handleSignals(shutdown: (reason: string) => Promise<void>, stopping: () => boolean, forceExit: (signal: NodeJS.Signals) => void): void {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (stopping()) forceExit(sig);
      else void shutdown(sig);
    });
  }
}

/**
 * The daemon's one shutdown (later calls get the same promise): the steps, the lock, then an
 * explicit exit if something still holds the process. Also wires the crash handlers and the
 * signals (a second signal during the shutdown exits at once).
 */
function stopper(ctx: DaemonContext, features: FeatureLoader, releaseLock: () => void, done: (code: number) => void): DaemonContext['shutdown'] {
  const { log, paths } = ctx;
  let stopping: Promise<void> | null = null;
  let report: ShutdownReport | null = null;
  const shutdown = (reason: string, exitCode: number = DaemonExit.Ok): Promise<void> => {
    stopping ??= (async () => {
      log.info('shutting down', { reason, exitCode });
      const r = (report = new ShutdownReport(paths.home, reason));
      process.once('exit', () => r.remove());
      features.stop();
      await runShutdownSteps(shutdownSteps(ctx, features.loaded), log, r);
      releaseLock();
      log.info('stopped', { exitCode });
      exitIfStillAlive(exitCode, log);
      done(exitCode);
    })();
    return stopping;
  };
  installCrashHandlers(log, shutdown);
  handleSignals(shutdown, () => stopping !== null, (sig) => {
    log.error('second signal during the shutdown: exiting now', { signal: sig, step: report?.current ?? null });
    releaseLock();
    process.exit(128 + (constants.signals[sig] ?? 15));
  });
  return shutdown;
}

async function serve(paths: KeelPaths, store: Store, log: Logger, releaseLock: () => void, times: StartTimes): Promise<number> {
  const startedAt = Date.now();
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (resolveDone = r));
  const ctx = { paths, store, log, startedAt } as DaemonContext;
  ctx.status = () => ({
    pid: process.pid, version: KEEL_VERSION, protocolVersion: PROTOCOL_VERSION, home: paths.home, db: paths.db,
    socket: paths.socket, uptimeMs: Date.now() - startedAt, startedAt, node: process.version,
    napi: process.versions.napi ?? 'unknown', execPath: process.execPath, clients: ctx.server.clientCount, requests: ctx.server.requestCounts(),
  });
  const envNumber = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);
  // A feature method's stand-in loads the features (or waits for them); once they are in, their handlers replace the stand-ins.
  const features = featureLoader(ctx, (f) => methods.install(f.handlers));
  const methods = buildHandlers(ctx, async () => (await features.load('request')).handlers);
  ctx.shutdown = stopper(ctx, features, releaseLock, resolveDone);
  ctx.server = new RpcServer(methods.handlers, log, sendLimits(envNumber('KEEL_SLOW_CLIENT_SECONDS')));
  await ctx.server.listen(paths.socket);
  process.title = 'keel-daemon';
  log.info('daemon ready', {
    pid: process.pid, version: KEEL_VERSION, protocolVersion: PROTOCOL_VERSION, node: process.version,
    napi: process.versions.napi, execPath: process.execPath, electron: process.versions.electron ?? null,
    db: paths.db, schemaVersion: store.schemaVersion(), socket: paths.socket,
    lastCleanShutdown: store.meta.get('last_clean_shutdown') ?? null,
    startMs: { ...times, listening: round(performance.now()) },
    // CPU time (user + system) the process had used by then: a start's cost even on a busy machine.
    startCpuMs: round(cpuMs()),
  });
  const afterMs = envNumber('KEEL_FEATURES_AFTER_MS');
  features.loadSoon(afterMs !== undefined && afterMs >= 0 ? afterMs : FEATURES_AFTER_MS);
  return done;
}
