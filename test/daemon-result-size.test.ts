/**
 * Results over the frame limit, from real data: a job that prints control bytes makes a
 * 4 MiB log chunk ~24 MiB of JSON. It is not sent; the caller gets E_RESULT_TOO_LARGE naming
 * the method and how to narrow it, and its connection (and the daemon) go on. (QA's other
 * case, `runs/get` of a run with 200 000 metric keys, no longer gets near the limit: keys are
 * capped per run and `runs/get` pages its series — test/metric-keys.test.ts.)
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

describe('a result too large for one message', () => {
  const h = new TestHome('keel-size-');
  let runId = '';

  before(() => {
    // A job that prints 4 MiB of control bytes: each is six characters of JSON (\u0001), so a
    // 4 MiB log chunk is a ~24 MiB result, over the daemon's 16 MiB message limit.
    const root = join(h.dir, 'noisy');
    mkdirSync(root);
    writeFileSync(join(root, 'noise.py'), 'import sys\nsys.stdout.buffer.write(bytes([1]) * (4 << 20))\n');
    writeFileSync(join(root, 'keel.yaml'), 'name: noisy\ntrain:\n  command: python3 noise.py {config}\n');
    writeFileSync(join(root, 'run.json'), '{}\n');
    execFileSync('git', ['init', '-q'], { cwd: root });
    h.keelJson(['init', root]);
    runId = h.keelJson<{ run: { id: string } }>(['launch', 'run.json', '--local'], { cwd: root }).run.id;
    assert.equal(h.keel(['wait', runId, '--timeout', '60']).code, 0);
  });
  after(() => {
    endAllStarted();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('is not sent: the caller gets E_RESULT_TOO_LARGE naming the method and how to narrow it, and the connection goes on', async () => {
    // A raw client that would accept a 64 MiB frame: the daemon itself must not send one over its limit.
    const raw = await RawClient.open(h.socket);
    await raw.initialize();
    raw.request(3, 'runs/logs', { run: runId, offset: 0, maxBytes: 16 * 1024 * 1024 });
    const reply = await raw.next(60_000);
    assert.equal(reply.id, 3);
    // Never hand assert a 24 MiB value: its diff of the message would take the test's memory.
    assert.ok(reply.result === undefined, `a result of ${JSON.stringify(reply.result ?? null).length} characters was sent`);
    const error = reply.error as { code: string; message: string; data: { method: string; bytes: number; limit: number } };
    assert.equal(error.code, 'E_RESULT_TOO_LARGE');
    assert.match(error.message, /^the result of runs\/logs is 24\.0 MiB, .*pass a smaller `maxBytes` and page by `offset`/);
    assert.equal(error.data.method, 'runs/logs');
    assert.equal(error.data.limit, MAX_FRAME_BYTES);
    assert.ok(error.data.bytes > MAX_FRAME_BYTES);
    raw.request(4, 'runs/logs', { run: runId, offset: 0, maxBytes: 1024 * 1024 });
    const page = await raw.next(60_000);
    assert.equal((page.result as { offset: number }).offset, 1024 * 1024, 'the same connection goes on: a smaller page is read');
    raw.close();
  });

  it('keeps a KeelClient (16 MiB frames) connected, with the error as an RpcError', async () => {
    const client = await KeelClient.connect({ socketPath: h.socket, client: { name: 't', version: '0' } });
    const failure = await client.call('runs/logs', { run: runId, offset: 0, maxBytes: 16 * 1024 * 1024 }).then(() => null, (e: unknown) => e);
    assert.ok(failure instanceof RpcError && failure.code === 'E_RESULT_TOO_LARGE', `got ${String(failure)}`);
    assert.ok(client.connected, 'the connection survived');
    assert.ok((await client.call('daemon/status', {})).pid > 0);
    client.close();
  });

  it('`keel logs` (1 MiB pages) prints such a log whole', async () => {
    const logs = startNode([keelBin, 'logs', runId], h.env);
    assert.equal(await logs.exited, 0, logs.stderr());
    assert.ok(logs.stdout().equals(readFileSync(localJobLog(h.home, runId))), 'the whole log, byte for byte');
    assert.equal(logs.stdout().length, 4 << 20);
  });
});
