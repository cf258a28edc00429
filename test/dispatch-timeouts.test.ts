/**
 * "Timed out" is not "unreachable", over two real sshd hosts: a host whose workspace build
 * outruns its time-out (a `cp` that crawls, as on a slow NFS home) leaves the run queued with
 * the reason and `timedOutSince`, the host stays reachable, and a run on the other host keeps
 * streaming meanwhile (one reconcile loop per host). Once the host is fast again the run
 * succeeds and the condition is cleared.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestHome, waitFor } from './support/keel-home.ts';
import { writeProbeProject } from './support/probe-project.ts';
import { nvidiaSmiStandIn, SshHost } from './support/sshd.ts';

interface RunJson { id: string; status: string; statusReason: string | null; unreachableSince: number | null; timedOutSince?: number | null }
interface Detail { run: RunJson; metrics: { key: string; points: number }[] }

describe('a step that outruns its time-out', () => {
  const h = new TestHome('keel-timeout-', {
    KEEL_POLL_MS: '300', KEEL_JOB_HEARTBEAT_SECONDS: '1', KEEL_JOB_KILL_GRACE_SECONDS: '2',
    KEEL_WORKSPACE_TIMEOUT_SECONDS: '2', KEEL_PLACEMENT_BACKOFF_SECONDS: '1', KEEL_PLACEMENT_BACKOFF_MAX_SECONDS: '2',
  });
  const slow = new SshHost({ alias: 'slow', dir: join(h.dir, 'host-slow'), gpus: 1 });
  const fast = new SshHost({ alias: 'fast', dir: join(h.dir, 'host-fast'), gpus: 1 });
  const root = join(h.dir, 'proj');
  const slowCp = join(slow.home, 'bin', 'cp');
  const show = (id: string): Detail => h.keelJson<Detail>(['run', 'show', id]);
  const launch = (args: string[]): string => h.keelJson<{ run: RunJson }>(['launch', ...args], { cwd: root }).run.id;
  const wait = (id: string): RunJson => (JSON.parse(h.keel(['wait', id, '--timeout', '150', '--json'], { timeoutMs: 180_000 }).stdout) as { run: RunJson }).run;
  const points = (id: string): number => show(id).metrics.find((m) => m.key === 'train/loss')?.points ?? 0;

  before(async () => {
    await slow.start();
    await fast.start();
    const config = join(h.dir, 'ssh_config');
    writeFileSync(config, readFileSync(slow.clientConfig, 'utf8') + readFileSync(fast.clientConfig, 'utf8'));
    h.extraEnv.KEEL_SSH_CONFIG = config;
    h.extraEnv.KEEL_GPU_LOCK_DIR = join(h.dir, 'gpu-locks');
    const localBin = join(h.dir, 'local-bin');
    mkdirSync(localBin);
    writeFileSync(join(localBin, 'nvidia-smi'), nvidiaSmiStandIn(0), { mode: 0o755 });
    h.extraEnv.PATH = `${localBin}:${process.env.PATH ?? ''}`;
    writeProbeProject(root, { quick: { steps: 3 }, stream: { steps: 150, sleep: 0.2 } });
    h.keelJson(['init', root]);
    h.keelJson(['hosts', 'add', 'slow', '--ssh', 'slow']);
    h.keelJson(['hosts', 'add', 'fast', '--ssh', 'fast']);
  });

  after(async () => {
    await slow.stop();
    await fast.stop();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('a workspace build past its time-out is "timed out", not unreachable, and the other host keeps streaming', async () => {
    const streaming = launch(['configs/stream.json', '--host', 'fast', '--gpus', '1']);
    await waitFor(() => points(streaming) > 0, 60_000, 'the fast host streaming');
    // The slow host's cp crawls while it copies a workspace (the first `cp -a` of workspace.sh).
    writeFileSync(slowCp, '#!/bin/sh\ncase "$*" in *work.tmp*) sleep 6 ;; esac\nexec /bin/cp "$@"\n', { mode: 0o755 });
    const id = launch(['configs/quick.json', '--host', 'slow', '--gpus', '1']);
    await waitFor(() => /building the workspace on slow timed out after 2 s/.test(show(id).run.statusReason ?? ''), 60_000, 'the timed-out reason');
    const run = show(id).run;
    assert.equal(run.status, 'queued', 'requeued with back-off, not failed');
    assert.equal(typeof run.timedOutSince, 'number');
    assert.equal(run.unreachableSince, null, 'not unreachable');
    const hosts = h.keelJson<{ hosts: { name: string; reachable: boolean | null }[] }>(['hosts']).hosts;
    assert.equal(hosts.find((x) => x.name === 'slow')?.reachable, true, 'the host itself answers');
    assert.equal(show(streaming).run.status, 'running');
    const before = points(streaming);
    await waitFor(() => points(streaming) > before, 10_000, 'the run on the other host streaming on while the slow one timed out');
    rmSync(slowCp);
    const end = wait(id);
    assert.equal(end.status, 'succeeded');
    assert.equal(show(id).run.timedOutSince ?? null, null, 'the condition is cleared');
    assert.equal(wait(streaming).status, 'succeeded');
  });
});
