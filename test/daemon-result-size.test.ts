/**
 * Results over the frame limit, from real data: a run with 200 000 metric keys (`keel import`
 * of a metrics.jsonl) makes a `runs/get` result of ~26 MiB, and a job that prints control
 * bytes makes a 4 MiB log chunk ~24 MiB of JSON. Neither is sent; the caller gets
 * E_RESULT_TOO_LARGE naming the method and how to narrow it, and its connection (and the
 * daemon) go on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelClient } from '../daemon/src/client/client.ts';
import { MAX_FRAME_BYTES, RpcError } from '../daemon/src/protocol/index.ts';
import { keelBin, RawClient, TestHome } from './support/keel-home.ts';
import { endAllStarted, startNode } from './support/processes.ts';
import { localJobLog } from './support/chatty-project.ts';

const KEYS = 200_000;

describe('a result too large for one message', () => {
  const h = new TestHome('keel-size-');
  let runId = '';

  before(() => {
    const dir = join(h.dir, 'wide-run');
    mkdirSync(dir);
    const lines = Array.from({ length: KEYS }, (_, i) => JSON.stringify({ step: 1, [`train/layer_${String(i).padStart(6, '0')}/grad_norm`]: 0.5 }));
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
    const imported = h.keelJson<{ runId: string; points: number }>(['import', dir, '--name', 'wide']);
    assert.equal(imported.points, KEYS);
    runId = imported.runId;
  });
  after(() => {
    endAllStarted();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('is not sent: the caller gets E_RESULT_TOO_LARGE naming the method and how to narrow it', async () => {
    // A raw client that would accept a 64 MiB frame: the daemon itself must not send one over its limit.
    const raw = await RawClient.open(h.socket);
    await raw.initialize();
    raw.request(7, 'runs/get', { run: runId });
    const reply = await raw.next(60_000);
    assert.equal(reply.id, 7);
    // Never hand assert a 26 MiB value: its diff of the message would take the test's memory.
    assert.ok(reply.result === undefined, `a result of ${JSON.stringify(reply.result ?? null).length} characters was sent`);
    const error = reply.error as { code: string; message: string; data: { method: string; bytes: number; limit: number } };
    assert.equal(error.code, 'E_RESULT_TOO_LARGE');
    assert.match(error.message, /^the result of runs\/get is \d+\.\d MiB, over the 16 MiB message limit, so it was not sent: .*metrics\/get \(`keel metrics RUN KEY`\)/);
    assert.equal(error.data.method, 'runs/get');
    assert.equal(error.data.limit, MAX_FRAME_BYTES);
    assert.ok(error.data.bytes > MAX_FRAME_BYTES);
    raw.request(8, 'metrics/get', { run: runId, key: 'train/layer_000042/grad_norm' });
    const one = await raw.next();
    assert.equal((one.result as { points: unknown[] }).points.length, 1, 'the same connection goes on: one series is readable');
    raw.close();
  });

  it('keeps a KeelClient (16 MiB frames) connected, with the error as an RpcError', async () => {
    const client = await KeelClient.connect({ socketPath: h.socket, client: { name: 't', version: '0' } });
    const failure = await client.call('runs/get', { run: runId }).then(() => null, (e: unknown) => e);
    assert.ok(failure instanceof RpcError && failure.code === 'E_RESULT_TOO_LARGE', `got ${String(failure)}`);
    assert.ok(client.connected, 'the connection survived');
    assert.ok((await client.call('daemon/status', {})).pid > 0);
    client.close();
  });

  it('reaches `keel run show` as a clear error, exit 1', () => {
    const r = h.keel(['run', 'show', runId]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^keel: the result of runs\/get is .* read one series with metrics\/get/);
  });

  it('a log chunk whose JSON escaping passes the limit gets the error; `keel logs` (1 MiB pages) prints it whole', async () => {
    const root = join(h.dir, 'noisy');
    mkdirSync(root);
    writeFileSync(join(root, 'noise.py'), 'import sys\nsys.stdout.buffer.write(bytes([1]) * (4 << 20))\n');
    writeFileSync(join(root, 'keel.yaml'), 'name: noisy\ntrain:\n  command: python3 noise.py {config}\n');
    writeFileSync(join(root, 'run.json'), '{}\n');
    execFileSync('git', ['init', '-q'], { cwd: root });
    h.keelJson(['init', root]);
    const id = h.keelJson<{ run: { id: string } }>(['launch', 'run.json', '--local'], { cwd: root }).run.id;
    assert.equal(h.keel(['wait', id, '--timeout', '60']).code, 0);
    const raw = await RawClient.open(h.socket);
    await raw.initialize();
    raw.request(3, 'runs/logs', { run: id, offset: 0, maxBytes: 16 * 1024 * 1024 });
    const reply = await raw.next(60_000);
    assert.ok(reply.result === undefined, 'no result was sent');
    const error = reply.error as { code: string; message: string };
    assert.equal(error.code, 'E_RESULT_TOO_LARGE');
    assert.match(error.message, /^the result of runs\/logs is 24\.0 MiB, .*pass a smaller `maxBytes` and page by `offset`/);
    raw.close();
    const logs = startNode([keelBin, 'logs', id], h.env);
    assert.equal(await logs.exited, 0, logs.stderr());
    assert.ok(logs.stdout().equals(readFileSync(localJobLog(h.home, id))), 'the whole log, byte for byte');
    assert.equal(logs.stdout().length, 4 << 20);
  });
});
