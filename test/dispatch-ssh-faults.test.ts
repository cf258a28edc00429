/**
 * Dispatch when the machines are not as hoped, over real sshd hosts on loopback: a host that
 * dropped between its check and a launch (the daemon must stay up and the run wait), a host
 * without rsync, and a machine without rsync (copies go by `tar | ssh`, or by Node locally).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestHome, waitFor } from './support/keel-home.ts';
import { writeProbeProject } from './support/probe-project.ts';
import { SshHost } from './support/sshd.ts';
import { binWithout } from './support/path-without.ts';
import { jobOwnFiles, openModes } from './support/secrets-scan.ts';

interface RunJson { id: string; status: string; statusReason: string | null; hostName: string | null }
interface Detail { run: RunJson; metrics: { key: string; points: number }[]; checkpoints: { location: string; step: number | null }[] }
interface LogLine { msg: string; run?: string; host?: string; what?: string; via?: string; why?: string }

describe('dispatch to hosts that dropped or lack rsync', () => {
  const h = new TestHome('keel-faults-', { KEEL_POLL_MS: '300', KEEL_JOB_HEARTBEAT_SECONDS: '1', KEEL_JOB_KILL_GRACE_SECONDS: '2' });
  const flaky = new SshHost({ alias: 'flaky', dir: join(h.dir, 'host-flaky'), gpus: 1 });
  const bare = new SshHost({ alias: 'bare', dir: join(h.dir, 'host-bare'), gpus: 1, without: ['rsync'] });
  const bareWorkdir = `~/keel work 'q' $(touch ${h.dir}/pwned)`;
  const root = join(h.dir, 'proj "p"');
  const show = (id: string): Detail => h.keelJson<Detail>(['run', 'show', id]);
  const launch = (args: string[]): string => h.keelJson<{ run: RunJson }>(['launch', ...args], { cwd: root }).run.id;
  const wait = (id: string): RunJson => (JSON.parse(h.keel(['wait', id, '--timeout', '180', '--json'], { timeoutMs: 210_000 }).stdout) as { run: RunJson }).run;
  const logLines = (): LogLine[] => h.daemonLogLines<LogLine>();
  const syncs = (run: string): LogLine[] => logLines().filter((l) => l.msg === 'synced' && l.run === run);

  before(async () => {
    await flaky.start();
    await bare.start();
    const config = join(h.dir, 'ssh_config');
    writeFileSync(config, readFileSync(flaky.clientConfig, 'utf8') + readFileSync(bare.clientConfig, 'utf8'));
    h.extraEnv.KEEL_SSH_CONFIG = config;
    // The machine-wide GPU lock folder both loopback hosts share (they are one machine), the test's own.
    h.extraEnv.KEEL_GPU_LOCK_DIR = join(h.dir, 'gpu-locks');
    writeProbeProject(root, { ok: { steps: 4 }, ckpt: { steps: 5, checkpoint: true } });
    writeFileSync(join(root, `-rf notes 'q' $(touch pwned-tar).md`), 'a name tar must not read as an option\n');
    h.keelJson(['init', root]);
    h.keelJson(['hosts', 'add', 'flaky', '--ssh', 'flaky']);
    h.keelJson(['hosts', 'add', 'bare', '--ssh', 'bare', '--workdir', bareWorkdir]);
  });

  after(async () => {
    await flaky.stop();
    await bare.stop();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('a launch onto a host that dropped since its check: the daemon stays up, the run waits queued, then runs', async () => {
    assert.equal(h.keelJson<{ error: string | null }>(['hosts', 'check', 'flaky']).error, null);
    const pid = h.daemonPid();
    assert.ok(pid);
    await flaky.stop();
    const id = launch(['configs/ok.json', '--host', 'flaky', '--gpus', '1']);
    await waitFor(() => /^host unreachable: .*flaky.*, retrying$/.test(show(id).run.statusReason ?? ''), 30_000, 'the unreachable reason');
    assert.equal(show(id).run.status, 'queued');
    await new Promise((r) => setTimeout(r, 3000)); // a few pump rounds against the dead host
    assert.equal(show(id).run.status, 'queued');
    assert.equal(h.daemonPid(), pid, 'the same daemon answers');
    process.kill(pid, 0); // still alive
    await flaky.resume();
    assert.equal(wait(id).status, 'succeeded');
    assert.equal(h.daemonPid(), pid, 'no restart on the way');
    assert.ok(!logLines().some((l) => /unhandled/i.test(l.msg)), 'nothing went unhandled');
  });

  it('a host without rsync: its check says so with the fix, and a launch copies with tar both ways', () => {
    const check = h.keelJson<{ facts: { rsync: boolean }; error: string | null }>(['hosts', 'check', 'bare']);
    assert.equal(check.error, null);
    assert.equal(check.facts.rsync, false);
    const { events } = h.keelJson<{ events: { kind: string; message: string }[] }>(['events']);
    assert.ok(events.some((e) => e.kind === 'rsync_missing' && /rsync is not installed on bare: .*apt-get install rsync/.test(e.message)), 'an event with the next step');
    const id = launch(['configs/ckpt.json', '--host', 'bare', '--gpus', '1']);
    assert.equal(wait(id).status, 'succeeded');
    const moves = syncs(id);
    for (const what of ['code', 'data', 'job']) {
      assert.ok(moves.some((l) => l.what === what && l.via === 'tar' && l.why === 'rsync is not installed on bare'), `${what} went by tar, and the log says why`);
    }
    // Outputs came back by tar too: metrics ingested, checkpoint registered, and keel pull works.
    const d = show(id);
    assert.equal(d.metrics.find((m) => m.key === 'train/loss')?.points, 5);
    const jobDir = join(bare.home, `keel work 'q' $(touch ${h.dir}/pwned)`, 'jobs', id, '1');
    assert.equal(d.checkpoints.find((c) => c.step === 5)?.location, `bare:${join(jobDir, 'outputs', 'checkpoint-5')}`);
    const dest = join(h.dir, 'pulled');
    h.keelJson(['pull', id, '--step', '5', '--dest', dest]);
    assert.deepEqual(readFileSync(join(dest, 'model.safetensors')), readFileSync(join(jobDir, 'outputs', 'checkpoint-5', 'model.safetensors')));
    assert.deepEqual(openModes(jobDir, jobOwnFiles), [], 'the job dir is private');
    const codeRoot = join(bare.home, `keel work 'q' $(touch ${h.dir}/pwned)`, 'code');
    for (const snap of readdirSync(codeRoot)) assert.deepEqual(openModes(join(codeRoot, snap)), [], 'tar-shipped code is private');
    const [snapshot] = readdirSync(codeRoot);
    assert.equal(readFileSync(join(codeRoot, snapshot ?? '', `-rf notes 'q' $(touch pwned-tar).md`), 'utf8'), 'a name tar must not read as an option\n');
    assert.ok(!existsSync(join(h.dir, 'pwned')), 'the work dir path never ran as shell text');
    for (const where of [bare.home, root, h.dir, process.cwd()]) assert.ok(!existsSync(join(where, 'pwned-tar')), 'a file name never ran as shell text');
  });

  it('this machine without rsync: ssh hosts get tar, the local backend copies with Node', () => {
    h.keel(['daemon', 'stop']);
    h.extraEnv.PATH = binWithout(join(h.dir, 'bin-without-rsync'), ['rsync']);
    try {
      h.keelJson(['hosts', 'check', 'flaky']);
      const { events } = h.keelJson<{ events: { kind: string; message: string }[] }>(['events']);
      assert.ok(events.some((e) => e.kind === 'rsync_missing' && /^rsync is not installed on this machine: .*apt-get install rsync/.test(e.message)), 'the check says so, with the fix');
      writeFileSync(join(root, 'extra.py'), 'print("new code to ship")\n');
      const remote = launch(['configs/ok.json', '--host', 'flaky', '--gpus', '1']);
      assert.equal(wait(remote).status, 'succeeded');
      assert.equal(show(remote).metrics.find((m) => m.key === 'train/loss')?.points, 4, 'outputs came back by tar');
      const remoteMoves = syncs(remote);
      assert.ok(remoteMoves.some((l) => l.what === 'code' && l.via === 'tar' && l.why === 'rsync is not installed on this machine'), JSON.stringify(remoteMoves));
      const local = launch(['configs/ok.json', '--local']);
      assert.equal(wait(local).status, 'succeeded');
      const localMoves = syncs(local);
      for (const what of ['code', 'data', 'job']) assert.ok(localMoves.some((l) => l.what === what && l.via === 'copy'), `${what} copied by Node`);
      assert.deepEqual(openModes(join(h.home, 'local', 'jobs', local), jobOwnFiles), [], 'the local job dir is private');
    } finally {
      h.keel(['daemon', 'stop']);
      delete h.extraEnv.PATH;
    }
  });
});
