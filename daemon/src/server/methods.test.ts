/**
 * The method table before and after the features load (server/methods.ts): a feature method
 * called before the load waits for it and is answered by the handler the loaded features
 * made; once installed, those handlers are the table's own; a method the features lack is
 * answered with the server's one "not available" error, by the stand-in and by the server;
 * and the daemon's own context is not one the features' code can be given (the tsc checks).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RpcError, type Method } from '../protocol/index.ts';
import { methodNotAvailable } from './connection.ts';
import type { DaemonContext } from './daemon.ts';
import type { FeatureContext } from './features.ts';
import type { HandlerContext, Handlers } from './handlers.ts';
import { buildHandlers } from './methods.ts';

type AnyHandler = (params: unknown, ctx: HandlerContext) => unknown;
const call = (handlers: Handlers, method: Method, params: unknown): unknown =>
  (handlers as unknown as Record<string, AnyHandler>)[method]?.(params, {} as HandlerContext);

// The table reads the daemon's context only inside daemon/status and daemon/shutdown, which these tests do not call.
const daemon = {} as DaemonContext;

/** A promise and the function that settles it: the features' load, held until the test lets it finish. */
function held<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// Checked by tsc, not at run time: the daemon's own context cannot reach the features' fields,
// nor be handed to feature code as a FeatureContext.
// @ts-expect-error the daemon's context has no tracker: it exists only once the features load
const _early = (ctx: DaemonContext): unknown => ctx.tracker;
// @ts-expect-error a DaemonContext lacks the tracker, the dispatcher and the run lifecycle
const _handedOn = (ctx: DaemonContext): FeatureContext => ctx;

describe('the method table', () => {
  it('a feature method called before the load waits for it, then answers from the loaded features', async () => {
    const load = held<Partial<Handlers>>();
    let loads = 0;
    const table = buildHandlers(daemon, () => { loads++; return load.promise; });
    let answered = false;
    const pending = Promise.resolve(call(table.handlers, 'projects/list', {})).then((r) => { answered = true; return r; });
    await new Promise((r) => setImmediate(r));
    assert.equal(answered, false, 'no answer while the features load');
    assert.equal(loads, 1);
    load.resolve({ 'projects/list': () => ({ projects: [] }) });
    assert.deepEqual(await pending, { projects: [] });
  });

  it('installing the features puts their handlers in the table and drops the stand-ins of methods they lack', () => {
    const table = buildHandlers(daemon, () => Promise.reject(new Error('installed handlers never load the features')));
    const initialize = table.handlers.initialize;
    const list: Handlers['projects/list'] = () => ({ projects: [] });
    table.install({ 'projects/list': list });
    assert.equal(table.handlers['projects/list'], list, 'the features\' own handler, not a stand-in around it');
    assert.equal(table.handlers['hosts/list'], undefined, 'a method no feature has is unknown to the table');
    assert.equal(table.handlers.initialize, initialize, 'the daemon\'s own methods stay');
  });

  it('a stand-in for a method the loaded features lack answers with the server\'s error', async () => {
    const table = buildHandlers(daemon, () => Promise.resolve({}));
    await assert.rejects(Promise.resolve(call(table.handlers, 'hosts/list', {})), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, ErrorCode.MethodNotFound);
      assert.equal(e.message, methodNotAvailable('hosts/list').message);
      assert.equal(e.message, 'method "hosts/list" is not available in this daemon');
      return true;
    });
  });
});
