/**
 * The composition root for protocol methods: the daemon's own (answered from the moment the
 * socket listens) and the features' (server/features.ts: each feature contributes its
 * handlers there). The features load after the socket listens; until they have, each of
 * their methods is a stand-in that loads them (or waits for the load under way) and hands
 * the request over, so a request that comes early waits instead of failing.
 */
import { KEEL_VERSION } from '../version.ts';
import { PROTOCOL_VERSION, paramsOf, type Method } from '../protocol/index.ts';
import { methodNotAvailable } from './connection.ts';
import type { DaemonContext } from './daemon.ts';
import type { HandlerContext, Handlers } from './handlers.ts';

/** The methods a daemon answers without its features. */
function coreHandlers(ctx: DaemonContext): Handlers {
  return {
    initialize: () => ({ protocolVersion: PROTOCOL_VERSION, daemon: { version: KEEL_VERSION, pid: process.pid } }),
    'daemon/status': () => ctx.status(),
    'daemon/shutdown': () => {
      // Answer first, then stop: the caller learns the shutdown was accepted.
      setImmediate(() => void ctx.shutdown('daemon/shutdown request'));
      return { ok: true };
    },
    'subscriptions/add': (params, { connection }) => {
      for (const t of params.topics) connection.topics.add(t);
      if (params.runIds) connection.runFilter = new Set([...(connection.runFilter ?? []), ...params.runIds]);
      return { topics: [...connection.topics] };
    },
    'subscriptions/remove': (params, { connection }) => {
      for (const t of params.topics) connection.topics.delete(t);
      return { topics: [...connection.topics] };
    },
  };
}

type AnyHandler = (params: unknown, ctx: HandlerContext) => unknown;

/** The server's method table, and what puts the features' methods in it once they are loaded. */
export interface MethodTable {
  handlers: Handlers;
  /** Replaces the stand-ins with the features' handlers (a method no feature has is then unknown, as it always was). */
  install(features: Partial<Handlers>): void;
}

/**
 * The method table: the core methods, and a stand-in for every other method of the protocol
 * that awaits `features()` (which loads the features once) and calls the real handler.
 */
export function buildHandlers(ctx: DaemonContext, features: () => Promise<Partial<Handlers>>): MethodTable {
  const handlers = coreHandlers(ctx);
  const table = handlers as unknown as Record<string, AnyHandler | undefined>;
  const standIns = new Set<Method>();
  for (const method of Object.keys(paramsOf) as Method[]) {
    if (table[method]) continue;
    standIns.add(method);
    table[method] = async (params, hctx) => {
      const handler = (await features())[method] as AnyHandler | undefined;
      if (!handler) throw methodNotAvailable(method);
      return handler(params, hctx);
    };
  }
  return {
    handlers,
    install: (features) => {
      const real = features as Record<string, AnyHandler | undefined>;
      for (const method of standIns) {
        if (real[method]) table[method] = real[method];
        else delete table[method];
      }
      standIns.clear();
    },
  };
}
