/**
 * The wire protocol against a real daemon: bad frames get clear errors, the daemon stays
 * up, 50 clients at once are served, and the database stays intact.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { RawClient, TestHome, waitFor } from './support/keel-home.ts';
import { KeelClient } from '../daemon/src/client/client.ts';
import { RpcError, type NotificationOf } from '../daemon/src/protocol/index.ts';

describe('daemon protocol', () => {
  const h = new TestHome();
  before(() => { h.keelJson(['daemon', 'start']); });
  after(() => {
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  const alive = async (): Promise<void> => {
    const c = await KeelClient.connect({ socketPath: h.socket, client: { name: 't', version: '0' } });
    const s = await c.call('daemon/status', {});
    assert.ok(s.pid > 0);
    c.close();
  };

  it('answers malformed JSON with E_PARSE and keeps the connection', async () => {
    const c = await RawClient.open(h.socket);
    c.send('{"id": 1, "method": ');
    const err = await c.next();
    assert.equal((err.error as { code: string }).code, 'E_PARSE');
    assert.equal(err.id, null);
    c.send('[1,2,3]');
    assert.equal(((await c.next()).error as { code: string }).code, 'E_INVALID_REQUEST');
    const init = await c.initialize();
    assert.equal((init.result as { protocolVersion: number }).protocolVersion, 1);
    c.close();
    await alive();
  });

  it('requires initialize first, and rejects a protocol mismatch with a next step', async () => {
    const c = await RawClient.open(h.socket);
    c.request(1, 'daemon/status', {});
    assert.equal(((await c.next()).error as { code: string }).code, 'E_NOT_INITIALIZED');
    c.close();
    await assert.rejects(
      KeelClient.connect({ socketPath: h.socket, client: { name: 't', version: '0' }, protocolVersion: 99 }),
      (e: unknown) => e instanceof RpcError && e.code === 'E_PROTOCOL_MISMATCH' && /Restart the daemon/.test(e.message),
    );
  });

  it('rejects unknown methods and wrong param types, naming the field', async () => {
    const c = await RawClient.open(h.socket);
    await c.initialize();
    c.request(2, 'runs/explode', {});
    const unknown = await c.next();
    assert.equal((unknown.error as { code: string }).code, 'E_METHOD_NOT_FOUND');
    assert.equal(unknown.id, 2);
    c.request(3, 'projects/register', { root: 42 });
    const bad = await c.next();
    const e = bad.error as { code: string; message: string; data: { issues: { path: string }[] } };
    assert.equal(e.code, 'E_INVALID_PARAMS');
    assert.deepEqual(e.data.issues.map((i) => i.path), ['params.root']);
    c.request(4, 'projects/list', { extra: true });
    assert.equal(((await c.next()).error as { code: string }).code, 'E_INVALID_PARAMS');
    c.request(5, 'subscriptions/add', { topics: ['runs', 'weather'] });
    assert.match(((await c.next()).error as { message: string }).message, /params\.topics\[1\]/);
    c.close();
  });

  it('closes a connection that sends a frame over 16 MiB, and stays up', async () => {
    const c = await RawClient.open(h.socket);
    await c.initialize();
    c.send(JSON.stringify({ id: 9, method: 'projects/list', params: { pad: 'x'.repeat(17 * 1024 * 1024) } }));
    await assert.rejects(c.next(15_000), /connection closed \(1009\)/);
    await alive();
  });

  it('survives a client that disconnects mid-request', async () => {
    const dir = join(h.dir, 'mid');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keel.yaml'), 'name: mid\n');
    for (let i = 0; i < 20; i++) {
      const c = await RawClient.open(h.socket);
      c.request(0, 'initialize', { protocolVersion: 1, client: { name: 't', version: '0' } });
      c.request(1, 'projects/register', { root: dir });
      c.ws.terminate();
    }
    await alive();
  });

  it('serves 50 concurrent clients', async () => {
    const clients = await Promise.all(
      Array.from({ length: 50 }, () => KeelClient.connect({ socketPath: h.socket, client: { name: 'many', version: '0' } })),
    );
    const statuses = await Promise.all(clients.map((c) => c.call('daemon/status', {})));
    assert.equal(new Set(statuses.map((s) => s.pid)).size, 1);
    assert.ok(statuses.every((s) => s.clients >= 50));
    clients.forEach((c) => c.close());
  });

  it('pushes notifications only to subscribers', async () => {
    const sub = await KeelClient.connect({ socketPath: h.socket, client: { name: 'sub', version: '0' } });
    const other = await KeelClient.connect({ socketPath: h.socket, client: { name: 'other', version: '0' } });
    await sub.call('subscriptions/add', { topics: ['projects'] });
    const got: { projectId: string; change: string }[] = [];
    const otherGot: string[] = [];
    sub.on('projects', (p) => got.push(p));
    other.on('projects', (p) => otherGot.push(p.change));
    const dir = join(h.dir, 'notify');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keel.yaml'), 'name: notify\n');
    const { project } = await other.call('projects/register', { root: dir });
    await other.call('projects/register', { root: dir });
    await new Promise((r) => setTimeout(r, 100));
    // Earlier tests' projects may still announce late rescans: look at this project's only.
    assert.deepEqual(got.filter((p) => p.projectId === project.id).map((p) => p.change), ['registered', 'updated']);
    assert.deepEqual(otherGot, []);
    sub.close();
    other.close();
  });

  it('a runs notification carries the run\'s row as runs/list gives it; a deleted run\'s carries none', async () => {
    const c = await KeelClient.connect({ socketPath: h.socket, client: { name: 'rows', version: '0' } });
    await c.call('subscriptions/add', { topics: ['runs'] });
    const notes: NotificationOf['runs'][] = [];
    c.on('runs', (n) => notes.push(n));
    const dir = join(h.dir, 'rows-run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'metrics.jsonl'), [{ step: 1, loss: 2 }, { step: 2, loss: 1.5, eval_loss: 1.75 }].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const { runId } = await c.call('runs/import', { dir, name: 'rows' });
    const listed = (await c.call('runs/list', {})).runs.find((r) => r.id === runId);
    const lastOf = (): NotificationOf['runs'] | undefined => notes.filter((n) => n.runId === runId).at(-1);
    // The import's last notification may still be on its way when runs/list answers.
    await waitFor(() => isDeepStrictEqual(lastOf()?.run, listed), 5_000, 'the import\'s last notification to carry the listed row').catch(() => undefined);
    const last = lastOf();
    assert.ok(last?.run, 'the last notification of the import has the row');
    assert.deepEqual(last.run, listed);
    assert.deepEqual([last.run.lastLoss, last.run.lastStep, last.run.name], [1.5, 2, 'rows']);
    await c.call('runs/delete', { run: runId });
    await waitFor(() => lastOf()?.deleted === true, 5_000, 'the deletion\'s notification').catch(() => undefined);
    const gone = lastOf();
    assert.deepEqual([gone?.deleted, gone?.run], [true, undefined]);
    c.close();
  });

  it('counts the requests it takes, by method', async () => {
    const c = await KeelClient.connect({ socketPath: h.socket, client: { name: 'count', version: '0' } });
    const before = (await c.call('daemon/status', {})).requests ?? {};
    await c.call('runs/list', { limit: 1 });
    await c.call('runs/list', { limit: 1 });
    await assert.rejects(c.call('runs/list', { cursor: 'nope' }), /not a runs\/list cursor/);
    const after = (await c.call('daemon/status', {})).requests ?? {};
    assert.equal((after['runs/list'] ?? 0) - (before['runs/list'] ?? 0), 3);
    assert.equal((after['daemon/status'] ?? 0) - (before['daemon/status'] ?? 0), 1);
    c.close();
  });
});
