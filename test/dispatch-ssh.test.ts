/**
 * Dispatch over real SSH: two sshd "hosts" on loopback, each with its own home and an
 * nvidia-smi stand-in declaring 2 GPUs in the real CSV format. Launch and stream, checkpoints
 * registered as host:path, no second sync of unchanged code and data, 30 concurrent runs on
 * 2 × 2 GPUs without ever sharing a GPU, a 30 s sshd outage mid-run, a killed wrapper, and
 * no secret at rest on either machine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestHome, waitFor } from './support/keel-home.ts';
import { writeProbeProject } from './support/probe-project.ts';
import { nvidiaSmiStandIn, SshHost } from './support/sshd.ts';
import { jobOwnFiles, openModes, secretsIn } from './support/secrets-scan.ts';

interface RunJson { id: string; name: string; status: string; statusReason: string | null; exitCode: number | null; unreachableSince: number | null; hostName: string | null }
interface Detail { run: RunJson; metrics: { key: string; points: number }[]; checkpoints: { location: string; hash: string | null; step: number | null; kind: string }[] }
interface Info { cuda: string; host: string; start: number; end: number; run: string }

describe('dispatch over SSH to two GPU hosts', () => {
  const h = new TestHome('keel-ssh-', {
    KEEL_POLL_MS: '300', KEEL_JOB_HEARTBEAT_SECONDS: '1', KEEL_JOB_KILL_GRACE_SECONDS: '2',
    KEEL_GPU_SAMPLE_SECONDS: '0.5', KEEL_ALERT_GPU_IDLE_SAMPLES: '3',
    // Debug lines (each sync, each reconcile step) so a run that never settles can be explained.
    KEEL_LOG_LEVEL: 'debug',
  });
  const a = new SshHost({ alias: 'gpu-a', dir: join(h.dir, 'host-a'), gpus: 2 });
  const b = new SshHost({ alias: 'gpu-b', dir: join(h.dir, 'host-b'), gpus: 2 });
  const root = join(h.dir, "my proj 'x'");
  const show = (id: string): Detail => h.keelJson<Detail>(['run', 'show', id]);
  const wait = (id: string, timeout = 180): RunJson => {
    const r = h.keel(['wait', id, '--timeout', String(timeout), '--json'], { timeoutMs: (timeout + 30) * 1000 });
    const run = (JSON.parse(r.stdout) as { run: RunJson }).run;
    if (['queued', 'syncing', 'starting', 'running'].includes(run.status)) {
      process.stderr.write(`run ${id} still ${run.status} after ${timeout} s; the daemon's log ends:\n${h.daemonLogTail(120)}\n`);
    }
    return run;
  };
  const launch = (args: string[]): string => h.keelJson<{ run: RunJson }>(['launch', ...args], { cwd: root }).run.id;
  const remoteJobDir = (host: SshHost, id: string, attempt = 1): string => join(host.home, '.keel', 'jobs', id, String(attempt));

  before(async () => {
    await a.start();
    await b.start();
    const config = join(h.dir, 'ssh_config');
    writeFileSync(config, readFileSync(a.clientConfig, 'utf8') + readFileSync(b.clientConfig, 'utf8'));
    h.extraEnv.KEEL_SSH_CONFIG = config;
    // The machine-wide GPU lock folder both loopback hosts share (they are one machine), the test's own.
    h.extraEnv.KEEL_GPU_LOCK_DIR = join(h.dir, 'gpu-locks');
    // This machine's own GPUs (on a GPU box) must not take part: the daemon's local host sees
    // an nvidia-smi that reports none, so placement has exactly the two test hosts.
    const localBin = join(h.dir, 'local-bin');
    mkdirSync(localBin);
    writeFileSync(join(localBin, 'nvidia-smi'), nvidiaSmiStandIn(0), { mode: 0o755 });
    h.extraEnv.PATH = `${localBin}:${process.env.PATH ?? ''}`;
    writeProbeProject(root, {
      gpu: { steps: 6, sleep: 0.05, checkpoint: true },
      short: { steps: 5, sleep: 0.1, seed: 0 },
      long: { steps: 80, sleep: 0.5 },
    });
    h.keelJson(['init', root]);
    h.keelJson(['hosts', 'add', 'gpu-a', '--ssh', 'gpu-a']);
    h.keelJson(['hosts', 'add', 'gpu-b', '--ssh', 'gpu-b', '--cost-per-hour', '2.5']);
  });

  after(async () => {
    await a.stop();
    await b.stop();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('checks hosts: reachable, and the GPUs nvidia-smi reports', () => {
    const r = h.keelJson<{ facts: { gpus: { index: number; uuid: string; memoryTotalMiB: number }[]; python: string | null; os: string }; error: string | null }>(['hosts', 'check', 'gpu-a']);
    assert.equal(r.error, null);
    assert.deepEqual(r.facts.gpus.map((g) => [g.index, g.memoryTotalMiB]), [[0, 81920], [1, 81920]]);
    assert.match(r.facts.gpus[1]?.uuid ?? '', /^GPU-00000001-/);
    assert.match(r.facts.os, /Linux/);
    assert.ok(r.facts.python);
    h.keelJson(['hosts', 'check', 'gpu-b']);
    const { hosts } = h.keelJson<{ hosts: { name: string; gpusTotal: number; gpusFree: number }[] }>(['hosts']);
    assert.deepEqual(hosts.filter((x) => x.name.startsWith('gpu-')).map((x) => [x.name, x.gpusFree, x.gpusTotal]), [['gpu-a', 2, 2], ['gpu-b', 2, 2]]);
  });

  it('launches on a host, streams metrics and logs back, and registers the checkpoint as host:path', () => {
    const id = launch(['configs/gpu.json', '--host', 'gpu-a', '--gpus', '1']);
    const run = wait(id);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.hostName, 'gpu-a');
    const d = show(id);
    assert.equal(d.metrics.find((m) => m.key === 'train/loss')?.points, 6);
    const ckpt = d.checkpoints.find((c) => c.step === 6);
    assert.ok(ckpt, 'checkpoint-6 registered');
    assert.equal(ckpt.location, `gpu-a:${join(remoteJobDir(a, id), 'outputs', 'checkpoint-6')}`);
    assert.match(ckpt.hash ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.match(h.keel(['logs', id]).stdout, /step 6 loss 0\.166667\ndone\n/);
    const info = JSON.parse(readFileSync(join(remoteJobDir(a, id), 'outputs', 'info.json'), 'utf8')) as Info;
    assert.equal(info.host, 'gpu-a');
    assert.equal(info.cuda.split(',').length, 1);
    const lineage = h.keelJson<{ root: { kind: string } }>(['lineage', ckpt.location]);
    assert.equal(lineage.root.kind, 'checkpoint');
    // keel pull brings the checkpoint home (rsync --partial), byte for byte.
    const dest = join(h.dir, 'pulled');
    const pulled = h.keelJson<{ path: string; bytes: number }>(['pull', id, '--step', '6', '--dest', dest]);
    assert.equal(pulled.path, dest);
    assert.deepEqual(readFileSync(join(dest, 'model.safetensors')), readFileSync(join(remoteJobDir(a, id), 'outputs', 'checkpoint-6', 'model.safetensors')));
  });

  it('raises "GPU idle" when a running job\'s GPU stays at 0% (nvidia-smi samples)', async () => {
    const id = launch(['configs/long.json', '--host', 'gpu-a', '--gpus', '1', '--set', 'steps=30', '--set', 'sleep=0.2']);
    await waitFor(() => h.keelJson<{ events: { kind: string }[] }>(['events', '--run', id]).events.some((e) => e.kind === 'gpu_idle'), 60_000, 'the gpu_idle alert');
    h.keelJson(['cancel', id]);
    assert.equal(wait(id).status, 'cancelled');
  });

  it('a second launch with unchanged code and data ships nothing new', () => {
    const before = { code: readdirSync(join(a.home, '.keel', 'code')), data: readdirSync(join(a.home, '.keel', 'data')) };
    const id = launch(['configs/short.json', '--host', 'gpu-a']);
    assert.equal(wait(id).status, 'succeeded');
    assert.deepEqual(readdirSync(join(a.home, '.keel', 'code')), before.code);
    assert.deepEqual(readdirSync(join(a.home, '.keel', 'data')), before.data);
  });

  it('30 concurrent runs on 2 hosts x 2 GPUs never share a GPU', async () => {
    const seeds = Array.from({ length: 30 }, (_, i) => i + 1).join(',');
    const r = h.keelJson<{ runs: RunJson[] }>(['sweep', 'configs/short.json', '--grid', `seed=${seeds}`, '--gpus', '1'], { cwd: root });
    assert.equal(r.runs.length, 30);
    await waitFor(() => {
      const { runs } = h.keelJson<{ runs: RunJson[] }>(['runs']);
      return r.runs.every((x) => ['succeeded', 'failed', 'lost'].includes(runs.find((y) => y.id === x.id)?.status ?? ''));
    }, 300_000, 'the sweep to finish');
    const intervals: { key: string; start: number; end: number; run: string }[] = [];
    for (const run of r.runs) {
      const d = show(run.id);
      assert.equal(d.run.status, 'succeeded', `${run.id} succeeded (it is ${d.run.status}: ${d.run.statusReason ?? ''})`);
      assert.ok(d.run.hostName === 'gpu-a' || d.run.hostName === 'gpu-b', `${run.id} ran on a test host, not ${d.run.hostName}`);
      const host = d.run.hostName === 'gpu-a' ? a : b;
      const info = JSON.parse(readFileSync(join(remoteJobDir(host, run.id), 'outputs', 'info.json'), 'utf8')) as Info;
      const spec = JSON.parse(readFileSync(join(remoteJobDir(host, run.id), 'spec.json'), 'utf8')) as { gpus: string[] };
      assert.equal(info.cuda, spec.gpus.join(','), 'the job sees exactly its lease');
      assert.equal(spec.gpus.length, 1);
      intervals.push({ key: `${host.alias}/${info.cuda}`, start: info.start, end: info.end, run: run.id });
    }
    const used = new Set(intervals.map((i) => i.key));
    assert.ok(used.size >= 3, `work was spread over the GPUs (${[...used].join(' ')})`);
    for (const x of intervals) {
      for (const y of intervals) {
        if (x === y || x.key !== y.key) continue;
        assert.ok(x.end <= y.start || y.end <= x.start, `${x.run} and ${y.run} overlapped on ${x.key}`);
      }
    }
  });

  it('an sshd outage of 30 s mid-run: still running, marked unreachable, resumes with nothing lost', async () => {
    const id = launch(['configs/long.json', '--host', 'gpu-b', '--set', 'steps=70']);
    await waitFor(() => (show(id).metrics.find((m) => m.key === 'train/loss')?.points ?? 0) >= 3, 60_000, 'metrics before the outage');
    await b.stop();
    await waitFor(() => show(id).run.unreachableSince !== null, 30_000, 'the run to be marked unreachable');
    assert.equal(show(id).run.status, 'running', 'unreachable is not an end');
    await new Promise((r) => setTimeout(r, 30_000));
    assert.equal(show(id).run.status, 'running');
    await b.resume();
    await waitFor(() => show(id).run.unreachableSince === null, 60_000, 'reachable again');
    const run = wait(id);
    assert.equal(run.status, 'succeeded');
    assert.equal(show(id).metrics.find((m) => m.key === 'train/loss')?.points, 70, 'no metric lost or doubled');
    const logs = h.keel(['logs', id]).stdout;
    for (let s = 1; s <= 70; s++) assert.equal(logs.split(`step ${s} loss`).length - 1, 1, `log line ${s} exactly once`);
  });

  it('kill -9 of the remote wrapper makes the run lost', async () => {
    const id = launch(['configs/long.json', '--host', 'gpu-a']);
    await waitFor(() => show(id).run.status === 'running', 60_000, 'running');
    const dir = remoteJobDir(a, id);
    await waitFor(() => { try { return readFileSync(join(dir, 'state', 'job_pid'), 'utf8').length > 0; } catch { return false; } }, 30_000, 'the job pid');
    const wrapper = Number(readFileSync(join(dir, 'state', 'pid'), 'utf8').split(' ')[0]);
    const group = Number(readFileSync(join(dir, 'state', 'job_pid'), 'utf8').split(' ')[1]);
    process.kill(wrapper, 'SIGKILL');
    try { process.kill(-group, 'SIGKILL'); } catch { /* gone */ }
    assert.equal(wait(id).status, 'lost');
  });

  it('keeps env values and secret files out of keel.db, the log and the host, whose job folders are private', () => {
    const token = 'hf_secret_sshUncommitted0123456789';
    const openAiKey = 'sk-sshEnvLocal0123456789abcdefXYZ';
    const yaml = join(root, 'keel.yaml');
    // Uncommitted: keel.yaml gains an env block with a token; an untracked .env.local appears.
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/(  command: .*\n)/, `$1  env:\n    HF_TOKEN: "${token}"\n`));
    writeFileSync(join(root, '.env.local'), `OPENAI_API_KEY=${openAiKey}\n`);
    const id = launch(['configs/short.json', '--host', 'gpu-a']);
    assert.equal(wait(id).status, 'succeeded');
    const info = JSON.parse(readFileSync(join(remoteJobDir(a, id), 'outputs', 'info.json'), 'utf8')) as { secret: string };
    assert.equal(info.secret, token, 'the job gets the value, through job.env');

    const all = [token, openAiKey];
    for (const file of [h.db, `${h.db}-wal`, join(h.home, 'daemon.log')]) {
      if (file.endsWith('-wal') && !existsSync(file)) continue;
      for (const s of all) assert.equal(readFileSync(file).includes(Buffer.from(s)), false, `${s} not in ${file}`);
    }
    const keel = join(a.home, '.keel');
    for (const tree of ['code', 'work', 'data']) assert.deepEqual(secretsIn(join(keel, tree), all), [], `nothing in the host's ${tree}/`);
    // job.env is the one place env values are written (0600); outputs/ is what the job itself wrote.
    assert.deepEqual(secretsIn(join(keel, 'jobs'), all, (rel) => rel.endsWith('/job.env') || rel.includes('/outputs/')), [], "nothing in the host's jobs/");
    assert.deepEqual(secretsIn(join(keel, 'jobs'), [openAiKey]), [], '.env.local reaches no job at all');
    assert.deepEqual(openModes(remoteJobDir(a, id), jobOwnFiles), [], 'the job dir is private');
    const spec = JSON.parse(readFileSync(join(remoteJobDir(a, id), 'spec.json'), 'utf8')) as { workspace: string };
    assert.deepEqual(openModes(spec.workspace), [], 'the workspace is private');
    assert.match(readFileSync(join(spec.workspace, 'keel.yaml'), 'utf8'), /^ {4}HF_TOKEN: '\[redacted\]'$/m, 'keel.yaml ships with names, not values');
  });
});
