/**
 * The wire contract: every method, declared once as `area/verb → {params, result}`.
 * The params validator is the single source of the params type; the result type is
 * declared beside it. Client and server helpers are typed from this map.
 */
import type { DaemonStatus, Project, RunStatus } from './domain.ts';
import { v, type Infer, type Validator } from './validate.ts';

/** Bumped on any incompatible change to a method, a notification or a record shape. */
export const PROTOCOL_VERSION = 1;

/** Frames larger than this are refused (the socket closes with 1009). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Notification topics a client can subscribe to. */
export const Topics = ['runs', 'metrics', 'logs', 'progress', 'alerts', 'hosts', 'projects'] as const;
export type Topic = (typeof Topics)[number];

const projectRef = v.string({ minLength: 1, maxLength: 4096 });

/** Params validators, one per method. */
export const paramsOf = {
  /** Client → daemon, first message on every connection. */
  initialize: v.object({
    protocolVersion: v.number({ integer: true }),
    client: v.object({ name: v.string({ maxLength: 200 }), version: v.string({ maxLength: 200 }) }),
  }),
  /** Client → daemon: who is running, where its state lives. */
  'daemon/status': v.object({}),
  /** Client → daemon: finish in-flight work, close, remove the socket. */
  'daemon/shutdown': v.object({}),
  /** Client → daemon: start receiving notifications on these topics (optionally for some runs only). */
  'subscriptions/add': v.object({
    topics: v.array(v.literal(...Topics), { maxItems: Topics.length }),
    runIds: v.optional(v.array(v.string({ maxLength: 200 }), { maxItems: 1000 })),
  }),
  /** Client → daemon: stop receiving notifications on these topics. */
  'subscriptions/remove': v.object({ topics: v.array(v.literal(...Topics), { maxItems: Topics.length }) }),
  /** Client → daemon: register (or re-read) the project whose root folder holds keel.yaml. */
  'projects/register': v.object({ root: v.string({ minLength: 1, maxLength: 4096 }) }),
  /** Client → daemon: all registered projects. */
  'projects/list': v.object({}),
  /** Client → daemon: one project by id, name or root path. */
  'projects/get': v.object({ project: projectRef }),
  /** Client → daemon: forget a project (its runs and history stay). */
  'projects/remove': v.object({ project: projectRef }),
} satisfies Record<string, Validator<unknown>>;

/** A problem in keel.yaml, positioned for an editor diagnostic (1-based line and column). */
export interface ProjectDiagnostic {
  message: string;
  path: string;
  line: number;
  column: number;
  severity: 'error' | 'warning';
}

export interface InitializeResult {
  protocolVersion: number;
  daemon: { version: string; pid: number };
}

/** Result types, one per method. */
export interface ResultOf {
  initialize: InitializeResult;
  'daemon/status': DaemonStatus;
  'daemon/shutdown': { ok: true };
  'subscriptions/add': { topics: Topic[] };
  'subscriptions/remove': { topics: Topic[] };
  'projects/register': { project: Project; created: boolean; warnings: string[]; diagnostics: ProjectDiagnostic[] };
  'projects/list': { projects: Project[] };
  'projects/get': { project: Project };
  'projects/remove': { ok: true };
}

export type Method = keyof typeof paramsOf & keyof ResultOf;
export type ParamsOf<M extends Method> = Infer<(typeof paramsOf)[M]>;

/** Notifications the daemon pushes, by topic: `{method: 'notify/<topic>', params}`. */
export interface NotificationOf {
  runs: { runId: string; status: RunStatus; unreachableSince: number | null; statusReason: string | null };
  metrics: { runId: string; key: string; points: { step: number; value: number | null; special?: 'nan' | 'inf' | '-inf' }[] };
  logs: { runId: string; lines: string[]; offset: number };
  progress: { task: string; id: string; done: number; total: number | null; unit: 'bytes' | 'files' | 'items'; message?: string; finished?: boolean };
  alerts: { id: number; kind: string; severity: 'info' | 'warning' | 'error'; runId: string | null; message: string };
  hosts: { name: string; reachable: boolean | null };
  projects: { projectId: string; change: 'registered' | 'updated' | 'removed' };
}

export function isMethod(name: string): name is Method {
  return Object.prototype.hasOwnProperty.call(paramsOf, name);
}
