/**
 * The composition root for protocol methods: each feature contributes its handlers here.
 */
import { KEEL_VERSION } from '../version.ts';
import { PROTOCOL_VERSION } from '../protocol/index.ts';
import type { DaemonContext } from './daemon.ts';
import type { Handlers } from './handlers.ts';
import { projectHandlers } from '../projects/handlers.ts';
import { runHandlers } from '../runs/handlers.ts';
import { runPageHandlers } from '../runs/page-handlers.ts';
import { lineageHandlers } from '../lineage/handlers.ts';
import { dispatchHandlers } from '../dispatch/handlers.ts';

export function buildHandlers(ctx: DaemonContext): Handlers {
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
    ...projectHandlers(ctx),
    ...runHandlers(ctx),
    ...runPageHandlers(ctx),
    ...lineageHandlers(ctx),
    ...dispatchHandlers(ctx),
  };
}
