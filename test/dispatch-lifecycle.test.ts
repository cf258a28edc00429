/**
 * The life of a run over real sshd hosts (issue "Lifecycle — Runs you can trust"): what runs
 * is what was recorded at launch (a queued run, a retry, and a rerun on another host rebuilt
 * from commit + patch, after keel.yaml and the tree changed); a job that writes into its tree
 * leaves the shared caches as they were; cancel of a queued run, of one syncing its data, and
 * of a running one across a host outage and a daemon kill -9, ends `cancelled` with nothing
 * left running and no eval; a GPU held by a stray process means back-off and one event, not a
 * loop; outputs written while the daemon was stopped are recorded.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TestHome, waitFor } from './support/keel-home.ts';
import { writeProbeProject } from './support/probe-project.ts';
import { nvidiaSmiStandIn, SshHost } from './support/sshd.ts';

interface RunJson { id: string; name: string; status: string; statusReason: string | null; exitCode: number | null }
interface Detail { run: RunJson; metrics: { key: string; points: number }[]; checkpoints: { step: number | null }[]; launchSpec: { job: { command: string } } | null }
interface Info { argv: string[]; cwd: string; data: string | null }
interface LogLine { msg: string; host?: string }

/** Every regular file and link under `dir` (Keel's seal files left out) → its sha256 or link target. */
function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (name.startsWith('.keel')) continue;
      if (st.isDirectory()) walk(p);
      else out[relative(dir, p)] = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the life of a run over SSH', () => {
  const h = new TestHome('keel-life-', {
    KEEL_POLL_MS: '300', KEEL_JOB_HEARTBEAT_SECONDS: '1', KEEL_JOB_KILL_GRACE_SECONDS: '2',
    KEEL_PLACEMENT_BACKOFF_SECONDS: '1', KEEL_PLACEMENT_BACKOFF_MAX_SECONDS: '4',
  });
  const host = new SshHost({ alias: 'life', dir: join(h.dir, 'host'), gpus: 1 });
  const other = new SshHost({ alias: 'other', dir: join(h.dir, 'host-other'), gpus: 1 });
  const root = join(h.dir, 'proj');
  const lockDir = join(h.dir, 'gpu-locks');
  const workdir = (): string => join(host.home, '.keel');
  const show = (id: string): Detail => h.keelJson<Detail>(['run', 'show', id]);
  const launch = (args: string[]): string => h.keelJson<{ run: RunJson }>(['launch', ...args, '--host', 'life', '--gpus', '1'], { cwd: root }).run.id;
  const wait = (id: string): RunJson => (JSON.parse(h.keel(['wait', id, '--timeout', '150', '--json'], { timeoutMs: 180_000 }).stdout) as { run: RunJson }).run;
  const jobDir = (id: string, attempt = 1, on = host): string => join(on.home, '.keel', 'jobs', id, String(attempt));
  const info = (id: string, on = host): Info => JSON.parse(readFileSync(join(jobDir(id, 1, on), 'outputs', 'info.json'), 'utf8')) as Info;
  const status = (id: string): string => show(id).run.status;
  const logLines = (): LogLine[] => h.daemonLogLines<LogLine>();

  before(async () => {
    await host.start();
    await other.start();
    const config = join(h.dir, 'ssh_config');
    writeFileSync(config, readFileSync(host.clientConfig, 'utf8') + readFileSync(other.clientConfig, 'utf8'));
    h.extraEnv.KEEL_SSH_CONFIG = config;
    h.extraEnv.KEEL_GPU_LOCK_DIR = lockDir;
    const localBin = join(h.dir, 'local-bin');
    mkdirSync(localBin);
    writeFileSync(join(localBin, 'nvidia-smi'), nvidiaSmiStandIn(0), { mode: 0o755 });
    h.extraEnv.PATH = `${localBin}:${process.env.PATH ?? ''}`;
    writeProbeProject(root, {
      busy: { steps: 30, sleep: 0.2 }, quick: { steps: 3 }, mutate: { steps: 2, mutate: true },
      long: { steps: 200, sleep: 0.2 }, retry: { steps: 30, sleep: 0.2 }, ckpt: { steps: 25, sleep: 0.2, checkpoint: true },
    });
    h.keelJson(['init', root]);
    h.keelJson(['hosts', 'add', 'life', '--ssh', 'life']);
    h.keelJson(['hosts', 'add', 'other', '--ssh', 'other']);
    assert.equal(h.keelJson<{ error: string | null }>(['hosts', 'check', 'life']).error, null);
  });

  after(async () => {
    await host.stop();
    await other.stop();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('a queued run and its rerun execute the command and code recorded at launch, not keel.yaml or the tree as they are later', () => {
    const busy = launch(['configs/busy.json']);
    const queued = launch(['configs/quick.json']);
    assert.equal(status(queued), 'queued', 'the one GPU is taken');
    const yaml = readFileSync(join(root, 'keel.yaml'), 'utf8');
    writeFileSync(join(root, 'keel.yaml'), yaml.replace('--name {run}', '--name {run} --changed-later yes'));
    const script = readFileSync(join(root, 'job.py'), 'utf8');
    writeFileSync(join(root, 'job.py'), `# changed after the launch\n${script}`);
    try {
      assert.equal(wait(busy).status, 'succeeded');
      assert.equal(wait(queued).status, 'succeeded');
      const seen = info(queued);
      assert.ok(!seen.argv.includes('--changed-later'), `the recorded command ran: ${JSON.stringify(seen.argv)}`);
      assert.equal(readFileSync(join(seen.cwd, 'job.py'), 'utf8'), script, 'the recorded code ran');
      assert.equal(show(queued).launchSpec?.job.command, 'python3 job.py --config {config} --out {output_dir} --name {run}');
      assert.match(h.keel(['run', 'show', queued]).stdout, /Launch spec[\s\S]*Command +python3 job\.py --config \{config\} --out \{output_dir\} --name \{run\}\n/);
      // On another host, after both runs ended and the snapshot left this machine: rebuilt from commit + patch.
      const rerun = h.keelJson<{ run: RunJson }>(['rerun', queued, '--host', 'other']).run.id;
      assert.equal(wait(rerun).status, 'succeeded');
      const { events } = h.keelJson<{ events: { kind: string; runId: string | null; message: string }[] }>(['events']);
      assert.ok(events.some((e) => e.kind === 'code_rebuilt' && e.runId === rerun), 'the snapshot was rebuilt from commit + patch, and said so');
      const again = info(rerun, other);
      assert.ok(!again.argv.includes('--changed-later'), `the rerun ran the recorded command: ${JSON.stringify(again.argv)}`);
      assert.equal(readFileSync(join(again.cwd, 'job.py'), 'utf8'), script, 'the rerun ran the recorded code');
    } finally {
      writeFileSync(join(root, 'keel.yaml'), yaml);
      writeFileSync(join(root, 'job.py'), script);
    }
  });

  it('a retry after a lost attempt runs the recorded command and code, not what changed since', async () => {
    const id = launch(['configs/retry.json', '--retries', '1']);
    await waitFor(() => status(id) === 'running', 60_000, 'the first attempt running');
    const dir = jobDir(id);
    await waitFor(() => { try { return readFileSync(join(dir, 'state', 'job_pid'), 'utf8').length > 0; } catch { return false; } }, 30_000, 'the job pid');
    const yaml = readFileSync(join(root, 'keel.yaml'), 'utf8');
    const script = readFileSync(join(root, 'job.py'), 'utf8');
    writeFileSync(join(root, 'keel.yaml'), yaml.replace('--name {run}', '--name {run} --changed-later yes'));
    writeFileSync(join(root, 'job.py'), `# changed after the launch\n${script}`);
    try {
      // The attempt is lost (wrapper and job killed, no exit code): with --retries 1 it runs again.
      process.kill(Number(readFileSync(join(dir, 'state', 'pid'), 'utf8').split(' ')[0]), 'SIGKILL');
      try { process.kill(-Number(readFileSync(join(dir, 'state', 'job_pid'), 'utf8').split(' ')[1]), 'SIGKILL'); } catch { /* gone */ }
      assert.equal(wait(id).status, 'succeeded');
      const seen = JSON.parse(readFileSync(join(jobDir(id, 2), 'outputs', 'info.json'), 'utf8')) as Info;
      assert.ok(!seen.argv.includes('--changed-later'), `the retry ran the recorded command: ${JSON.stringify(seen.argv)}`);
      assert.equal(readFileSync(join(seen.cwd, 'job.py'), 'utf8'), script, 'the retry ran the recorded code');
    } finally {
      writeFileSync(join(root, 'keel.yaml'), yaml);
      writeFileSync(join(root, 'job.py'), script);
    }
  });

  it('a job that edits its script in place and writes next to and through its data leaves the caches as they were', () => {
    const first = launch(['configs/quick.json']);
    assert.equal(wait(first).status, 'succeeded');
    const before = { code: treeDigest(join(workdir(), 'code')), data: treeDigest(join(workdir(), 'data')) };
    const original = info(first).data;
    const mutator = launch(['configs/mutate.json']);
    assert.equal(wait(mutator).status, 'succeeded');
    assert.match(readFileSync(join(info(mutator).cwd, 'job.py'), 'utf8'), /^# edited in place by the job/, 'the job did edit its own copy');
    assert.deepEqual(treeDigest(join(workdir(), 'code')), before.code, 'the code caches are byte-identical');
    assert.ok(!Object.keys(treeDigest(join(workdir(), 'data'))).some((f) => f.endsWith('tokenizer.cache')), 'nothing new in the data cache');
    // The append went through to the cached file (root ignores its read-only mode): the next run must not trust it.
    const next = launch(['configs/quick.json']);
    assert.equal(wait(next).status, 'succeeded');
    assert.equal(info(next).data, original, 'the next job saw the recorded data, re-synced');
    assert.deepEqual(treeDigest(join(workdir(), 'data')), before.data, 'the data cache is byte-identical again');
  });

  it('cancel of a queued run ends it at once, and nothing of it ever starts on the host', () => {
    const busy = launch(['configs/busy.json']);
    const queued = launch(['configs/quick.json']);
    assert.equal(status(queued), 'queued');
    assert.equal(h.keelJson<{ run: RunJson }>(['cancel', queued]).run.status, 'cancelled');
    assert.equal(wait(busy).status, 'succeeded');
    assert.equal(status(queued), 'cancelled', 'still cancelled once the GPU is free');
    assert.ok(!existsSync(join(jobDir(queued), 'state', 'pid')), 'no process of it ever ran on the host');
    assert.equal(show(queued).run.statusReason, 'cancelled before it started');
  });

  it('cancel while the run is syncing its data: it ends cancelled, nothing starts on the host, and no eval follows', async () => {
    const yaml = readFileSync(join(root, 'keel.yaml'), 'utf8');
    const data = readFileSync(join(root, 'data', 'train.jsonl'), 'utf8');
    const slowHash = join(host.home, 'bin', 'sha256sum');
    // The host hashes what arrives slowly (a large dataset, a slow disk): the run sits in `syncing`.
    writeFileSync(slowHash, `#!/bin/sh\ncase "$*" in *-z*--*) sleep 5 ;; esac\nexec /usr/bin/sha256sum "$@"\n`, { mode: 0o755 });
    writeFileSync(join(root, 'keel.yaml'), `${yaml}eval:\n  command: python3 job.py --config {config} --out {output_dir} --name {run}\n`);
    writeFileSync(join(root, 'data', 'train.jsonl'), `${data}{"text": "new data to ship"}\n`);
    try {
      const id = launch(['configs/quick.json']);
      await waitFor(() => status(id) === 'syncing', 30_000, 'the run syncing');
      assert.equal(h.keelJson<{ run: RunJson }>(['cancel', id]).run.status, 'cancelled');
      await new Promise((r) => setTimeout(r, 8000)); // past the slow hash: the attempt would go on to start.sh here
      assert.equal(status(id), 'cancelled');
      assert.ok(!existsSync(join(jobDir(id), 'state', 'pid')), 'no process of it ran on the host');
      assert.ok(!existsSync(join(jobDir(id), 'outputs', 'info.json')), 'the job never ran');
      const { runs } = h.keelJson<{ runs: { id: string; parentRunId?: string | null; name: string }[] }>(['runs']);
      assert.ok(!runs.some((r) => r.name.endsWith('-eval')), 'no eval was launched');
    } finally {
      rmSync(slowHash, { force: true });
      writeFileSync(join(root, 'keel.yaml'), yaml);
      writeFileSync(join(root, 'data', 'train.jsonl'), data);
    }
  });

  it('a cancel the host could not take, then a daemon kill -9: the run ends cancelled and nothing runs on the host', async () => {
    const id = launch(['configs/long.json']);
    await waitFor(() => status(id) === 'running', 60_000, 'the job running');
    const pid = Number(readFileSync(join(jobDir(id), 'state', 'pid'), 'utf8').trim().split(/\s+/)[0]);
    assert.ok(isAlive(pid));
    await host.stop();
    try {
      assert.equal(h.keelJson<{ run: RunJson }>(['cancel', id]).run.status, 'running', 'the host did not answer: the cancel waits');
      // The reason is recorded once the cancel's ssh attempt has failed, which a loaded machine may take a while to see.
      await waitFor(() => /cancel requested; life does not answer/.test(show(id).run.statusReason ?? ''), 30_000, 'the run to say the host does not answer the cancel');
      const daemon = h.daemonPid();
      assert.ok(daemon);
      process.kill(daemon, 'SIGKILL');
      await waitFor(() => !isAlive(daemon), 10_000, 'the daemon gone');
    } finally {
      await host.resume();
    }
    const end = wait(id);
    assert.equal(end.status, 'cancelled', JSON.stringify(end));
    await waitFor(() => !isAlive(pid), 15_000, 'the job stopped on the host');
    assert.equal(existsSync(join(jobDir(id), 'state', 'cancel')), true);
  });

  it('a GPU held by a stray process: back-off and one event naming it, then the run places once it is free', async () => {
    const check = h.keelJson<{ facts: { gpus: { uuid: string }[] } }>(['hosts', 'check', 'life']);
    const uuid = check.facts.gpus[0]?.uuid ?? '';
    assert.match(uuid, /^GPU-/);
    mkdirSync(lockDir, { recursive: true, mode: 0o1777 });
    const lockFile = join(lockDir, `${uuid}.lock`);
    writeFileSync(lockFile, '', { mode: 0o644 });
    // Its own process group: the lock is held by flock's child too, and both must go.
    const stray: ChildProcess = spawn('flock', [lockFile, 'sleep', '120'], { stdio: 'ignore', detached: true });
    const killStray = (): void => {
      try {
        process.kill(-(stray.pid ?? 0), 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    try {
      await waitFor(() => isHeld(lockFile), 5000, 'the stray lock');
      const looksBefore = logLines().filter((l) => l.msg === 'gpu leases' && l.host === 'life').length;
      const id = launch(['configs/quick.json']);
      await new Promise((r) => setTimeout(r, 8000));
      assert.equal(status(id), 'queued', 'it waits for the GPU');
      const { events } = h.keelJson<{ events: { kind: string; runId: string | null; message: string }[] }>(['events']);
      const busyEvents = events.filter((e) => e.kind === 'gpu_busy' && e.runId === id);
      assert.equal(busyEvents.length, 1, JSON.stringify(busyEvents));
      assert.match(busyEvents[0]?.message ?? '', new RegExp(`GPU 0 \\(${uuid}\\) on life is held by pid \\d+ \\((flock|sleep)`));
      const looks = logLines().filter((l) => l.msg === 'gpu leases' && l.host === 'life').length - looksBefore;
      // At most 8 proves the back-off (a 300 ms poll would look ~26 times); that it looks again at
      // all is proven below, when the run places once the GPU is free. A loaded machine may
      // fit only one look in the 8 s.
      assert.ok(looks >= 1 && looks <= 8, `the leases were looked at ${looks} times in 8 s (poll 300 ms; back-off 1, 2, 4, 4 s)`);
      killStray();
      assert.equal(wait(id).status, 'succeeded');
    } finally {
      killStray();
    }
  });

  it('outputs written while the daemon is stopped are recorded when it starts again', async () => {
    const id = launch(['configs/ckpt.json']);
    await waitFor(() => status(id) === 'running', 60_000, 'the job running');
    h.keel(['daemon', 'stop']);
    await waitFor(() => existsSync(join(jobDir(id), 'outputs', 'info.json')), 60_000, 'the job done while the daemon is down');
    const end = wait(id);
    assert.equal(end.status, 'succeeded');
    const d = show(id);
    assert.deepEqual(d.checkpoints.map((c) => c.step), [25], 'the checkpoint written during the outage');
    assert.equal(d.metrics.find((m) => m.key === 'train/loss')?.points, 25, 'every metric point');
  });
});

/** True when /proc/locks shows an flock on `file`'s inode. */
function isHeld(file: string): boolean {
  const ino = lstatSync(file).ino;
  return readFileSync('/proc/locks', 'utf8').split('\n').some((l) => l.includes('FLOCK') && l.split(/\s+/).some((f) => f.endsWith(`:${ino}`)));
}
