/**
 * Dispatch on the local backend, through the real CLI and daemon, with real processes:
 * success, failure with its exit code, cancel, shell metacharacters that must reach the
 * job intact, a killed daemon, a killed wrapper, a reboot (changed boot id), and retries;
 * and no secret at rest: env values and secret-looking files stay out of keel.db, the log
 * and the shipped code, and job folders are private.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestHome, waitFor } from './support/keel-home.ts';
import { writeProbeProject } from './support/probe-project.ts';
import { jobOwnFiles, openModes, secretsIn } from './support/secrets-scan.ts';

interface RunJson { id: string; name: string; status: string; exitCode: number | null; unreachableSince: number | null; statusReason: string | null }
interface Detail { run: RunJson; metrics: { key: string; points: number; lastValue: number | null }[]; params: Record<string, unknown> }

describe('dispatch on the local backend', () => {
  const bootFile = join('/tmp', `keel-boot-${process.pid}`);
  const h = new TestHome('keel-dispatch-', {
    KEEL_POLL_MS: '300', KEEL_JOB_HEARTBEAT_SECONDS: '1', KEEL_JOB_KILL_GRACE_SECONDS: '2', KEEL_BOOT_ID_FILE: bootFile,
  });
  const root = join(h.dir, `proj "q" $(touch ${h.dir}/pwned) é`);
  const secret = 'hf_abcdefghijklmnopqrstuvwxyz012345';
  const newSecret = 'hf_secret_uncommitted_0123456789abcdef';
  const openAiKey = 'sk-untrackedEnvLocal0123456789abcdefXYZ';

  const launch = (args: string[]): string => h.keelJson<{ run: RunJson }>(['launch', ...args], { cwd: root }).run.id;
  const show = (id: string): Detail => h.keelJson<Detail>(['run', 'show', id]);
  const jobDir = (id: string, attempt = 1): string => join(h.home, 'local', 'jobs', id, String(attempt));
  const wait = (id: string): { code: number; run: RunJson } => {
    const r = h.keel(['wait', id, '--timeout', '120', '--json']);
    return { code: r.code, run: (JSON.parse(r.stdout) as { run: RunJson }).run };
  };
  const statePid = (id: string, attempt = 1): number => Number(readFileSync(join(jobDir(id, attempt), 'state', 'pid'), 'utf8').split(' ')[0]);

  before(() => {
    writeFileSync(bootFile, 'boot-a\n');
    writeProbeProject(root, {
      ok: { steps: 8 },
      fail: { steps: 2, exit: 3 },
      slow: { steps: 400, sleep: 0.05 },
      odd: { steps: 1, note: `it's "quoted" $(touch ${h.dir}/pwned2) \`touch ${h.dir}/pwned3\` ; rm -rf / | é 日本` },
    }, { env: { HF_TOKEN: secret } });
    h.keelJson(['init', root]);
  });

  after(() => {
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('launches, streams logs and metrics, and succeeds', () => {
    const id = launch(['configs/ok.json', '--local']);
    const { code, run } = wait(id);
    assert.equal(code, 0);
    assert.equal(run.status, 'succeeded');
    const d = show(id);
    const loss = d.metrics.find((m) => m.key === 'train/loss');
    assert.equal(loss?.points, 8);
    assert.equal(loss?.lastValue, 1 / 8);
    const logs = h.keel(['logs', id]).stdout;
    assert.match(logs, /step 8 loss 0\.125000\ndone\n/);
    const info = JSON.parse(readFileSync(join(jobDir(id), 'outputs', 'info.json'), 'utf8')) as { argv: string[]; run: string; cuda: string; data: string; secret: string };
    assert.equal(info.run, id);
    assert.equal(info.cuda, '', 'a CPU job sees no GPUs');
    assert.equal(info.data, '{"text": "hello"}\n{"text": "world"}\n', 'the dataset is in the workspace');
    assert.equal(info.secret, secret, 'env values reach the job');
  });

  it('rerun runs the same code, data and config again, and records where it came from', () => {
    const { runs } = h.keelJson<{ runs: RunJson[] }>(['runs']);
    const original = runs.find((r) => r.status === 'succeeded' && !r.name.endsWith('-eval'));
    assert.ok(original);
    // The data changes after the original ran: the rerun must still see what the original saw.
    const data = join(root, 'data', 'train.jsonl');
    const before = readFileSync(data, 'utf8');
    writeFileSync(data, before + '{"text": "added later"}\n');
    const again = h.keelJson<{ run: RunJson }>(['rerun', original.id]).run;
    assert.equal(wait(again.id).run.status, 'succeeded');
    writeFileSync(data, before);
    const info = (id: string): { data: string } => JSON.parse(readFileSync(join(jobDir(id), 'outputs', 'info.json'), 'utf8')) as { data: string };
    assert.equal(info(again.id).data, info(original.id).data);
    assert.deepEqual(show(again.id).params, show(original.id).params);
    const g = h.keelJson<{ ancestors: { id: string }[] }>(['lineage', again.id]);
    assert.ok(g.ancestors.some((n) => n.id === original.id), 'the rerun descends from the original');
  });

  it('never writes env values or secret files to the database, the log, the code or job folders; job folders are private', async () => {
    const updatedAt = (): number => h.keelJson<{ projects: { updatedAt: number }[] }>(['projects']).projects[0]?.updatedAt ?? 0;
    const before = updatedAt();
    // Uncommitted: a new token in keel.yaml and an untracked .env.local.
    const yaml = join(root, 'keel.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(secret, newSecret) + '# edited\nsecrets:\n  - "!auth/credentials.py"\n');
    writeFileSync(join(root, '.env.local'), `OPENAI_API_KEY=${openAiKey}\n`);
    mkdirSync(join(root, 'auth'));
    writeFileSync(join(root, 'auth', 'credentials.py'), 'def login(): ...\n'); // code, shipped on purpose
    await waitFor(() => updatedAt() > before, 30_000, 'the daemon to re-read keel.yaml');
    const id = launch(['configs/ok.json', '--local']);
    assert.equal(wait(id).run.status, 'succeeded');
    const info = JSON.parse(readFileSync(join(jobDir(id), 'outputs', 'info.json'), 'utf8')) as { secret: string };
    assert.equal(info.secret, newSecret, 'the job gets the value, through job.env');

    const all = [secret, newSecret, openAiKey];
    const db = readFileSync(h.db);
    for (const s of all) assert.equal(db.includes(Buffer.from(s)), false, `${s} not in keel.db`);
    const wal = join(h.home, 'keel.db-wal');
    if (existsSync(wal)) for (const s of all) assert.equal(readFileSync(wal).includes(Buffer.from(s)), false, `${s} not in the WAL`);
    for (const s of all) assert.equal(readFileSync(join(h.home, 'daemon.log'), 'utf8').includes(s), false, `${s} not in daemon.log`);
    const local = join(h.home, 'local');
    // job.env is the one place env values are written (0600); outputs/ is what the job itself wrote.
    const carriers = (rel: string): boolean => rel.endsWith('/job.env') || rel.includes('/outputs/');
    for (const tree of ['code', 'work', 'data']) assert.deepEqual(secretsIn(join(local, tree), all), [], `nothing in ${tree}/`);
    assert.deepEqual(secretsIn(join(local, 'jobs'), all, carriers), [], 'nothing in jobs/ but job.env and outputs');
    assert.deepEqual(secretsIn(join(local, 'jobs'), [openAiKey]), [], '.env.local reaches no job at all');
    assert.ok(!existsSync(join(h.home, 'staging')) || readdirSync(join(h.home, 'staging')).length === 0, 'staging is cleaned up');
    assert.deepEqual(openModes(jobDir(id), jobOwnFiles), [], 'the job dir is private');
    assert.deepEqual(openModes(local, jobOwnFiles), [], "everything of the local backend's is private: code, data, work, jobs, scripts, GPU locks");
    assert.deepEqual(openModes(join(h.home, 'logs', id)), [], 'the local log copy is private');
    const { events } = h.keelJson<{ events: { kind: string; message: string }[] }>(['events', '--run', id]);
    assert.ok(events.some((e) => e.kind === 'secrets_not_shipped' && e.message.includes('.env.local') && !e.message.includes('credentials')), 'an event names what was left home');
    const ws = (JSON.parse(readFileSync(join(jobDir(id), 'spec.json'), 'utf8')) as { workspace: string }).workspace;
    assert.equal(readFileSync(join(ws, 'auth', 'credentials.py'), 'utf8'), 'def login(): ...\n', 'a "!" exception in secrets: ships on purpose');
    assert.ok(!existsSync(join(ws, '.env.local')));
  });

  it('a log copy that cannot be written stops that follow, not the daemon', () => {
    const pid = h.daemonPid();
    assert.ok(pid);
    const id = launch(['configs/ok.json', '--local']);
    // A folder where the local copy of the log goes: every append fails with EISDIR.
    mkdirSync(join(h.home, 'logs', id, '1.log'), { recursive: true });
    assert.equal(wait(id).run.status, 'succeeded');
    assert.equal(h.daemonPid(), pid, 'the same daemon');
    process.kill(pid, 0);
    assert.match(readFileSync(join(h.home, 'daemon.log'), 'utf8'), /"msg":"log follow stopped; it resumes from its cursor","run":"[^"]+","error":"EISDIR/);
  });

  it('a failing job ends failed with its exit code, and keel wait exits with it', () => {
    const id = launch(['configs/fail.json', '--local']);
    const { code, run } = wait(id);
    assert.equal(run.status, 'failed');
    assert.equal(run.exitCode, 3);
    assert.equal(code, 3);
    const { events } = h.keelJson<{ events: { kind: string; runId: string }[] }>(['events', '--run', id]);
    assert.ok(events.some((e) => e.kind === 'run_failed'));
  });

  it('cancel sends TERM to the process group and records the exit code', async () => {
    const id = launch(['configs/slow.json', '--local']);
    await waitFor(() => show(id).run.status === 'running' && (show(id).metrics.find((m) => m.key === 'train/loss')?.points ?? 0) > 2, 30_000, 'the run to be running');
    h.keelJson(['cancel', id]);
    const { code, run } = wait(id);
    assert.equal(run.status, 'cancelled');
    assert.equal(run.exitCode, 143);
    assert.equal(code, 130);
  });

  it('spaces, quotes, $() and backticks in paths, values and names reach the job intact and never run', () => {
    const name = `odd run 'x' $(touch ${h.dir}/pwned4)`;
    const id = launch(['configs/odd.json', '--local', '--name', name, '--set', `note=$(touch ${h.dir}/pwned5) "x" 'y'`]);
    assert.equal(wait(id).run.status, 'succeeded');
    const info = JSON.parse(readFileSync(join(jobDir(id), 'outputs', 'info.json'), 'utf8')) as { argv: string[]; cfg: { note: string } };
    assert.equal(info.cfg.note, `$(touch ${h.dir}/pwned5) "x" 'y'`);
    assert.deepEqual(info.argv, ['--config', join(jobDir(id), 'config.json'), '--out', join(jobDir(id), 'outputs'), '--name', id]);
    assert.equal(show(id).run.name, name);
    assert.equal(show(id).params.note, `$(touch ${h.dir}/pwned5) "x" 'y'`, 'the run records its effective config');
    for (const f of readdirSync(h.dir)) assert.doesNotMatch(f, /^pwned/, `nothing executed (${f})`);
  });

  it('survives kill -9 of the daemon mid-run: still tracked, no gap, no duplicate', async () => {
    const id = launch(['configs/slow.json', '--local', '--set', 'steps=60']);
    await waitFor(() => (show(id).metrics.find((m) => m.key === 'train/loss')?.points ?? 0) >= 5, 30_000, 'some metrics');
    const pid = h.daemonPid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 5000, 'the daemon to die');
    const { run } = wait(id); // auto-starts a new daemon, which reconciles the job
    assert.equal(run.status, 'succeeded');
    const loss = show(id).metrics.find((m) => m.key === 'train/loss');
    assert.equal(loss?.points, 60);
    const logs = h.keel(['logs', id]).stdout;
    for (let s = 1; s <= 60; s++) assert.equal(logs.split(`step ${s} loss`).length - 1, 1, `log line ${s} exactly once`);
  });

  it('a killed wrapper makes the run lost, not running forever', async () => {
    const id = launch(['configs/slow.json', '--local']);
    await waitFor(() => show(id).run.status === 'running' && existsSync(join(jobDir(id), 'state', 'pid')), 30_000, 'running');
    const jobPid = Number(readFileSync(join(jobDir(id), 'state', 'job_pid'), 'utf8').split(' ')[1]);
    process.kill(statePid(id), 'SIGKILL');
    try { process.kill(-jobPid, 'SIGKILL'); } catch { /* already gone */ }
    const { run, code } = wait(id);
    assert.equal(run.status, 'lost');
    assert.equal(code, 75);
  });

  it('a changed boot id (a reboot) makes the run lost; with --retries it runs again in a new attempt', async () => {
    const id = launch(['configs/slow.json', '--local', '--retries', '1', '--set', 'steps=40']);
    await waitFor(() => show(id).run.status === 'running' && existsSync(join(jobDir(id), 'state', 'job_pid')), 30_000, 'running');
    // After a reboot the recorded pid may be alive again as some other process: the boot id tells.
    writeFileSync(bootFile, 'boot-b\n');
    await waitFor(() => existsSync(join(jobDir(id, 2), 'state', 'pid')), 30_000, 'attempt 2');
    const { events } = h.keelJson<{ events: { kind: string; message: string }[] }>(['events', '--run', id]);
    const oldGroup = Number(readFileSync(join(jobDir(id), 'state', 'job_pid'), 'utf8').split(' ')[1]);
    try { process.kill(-oldGroup, 'SIGKILL'); process.kill(statePid(id), 'SIGKILL'); } catch { /* gone */ }
    assert.ok(!events.some((e) => e.kind === 'run_lost'), 'with a retry left, the run is not lost');
    const { run } = wait(id);
    assert.equal(run.status, 'succeeded', 'the retry succeeded');
    assert.ok(existsSync(join(jobDir(id, 2), 'state', 'exit_code')), 'attempt 2 has its own directory');
    assert.equal(readFileSync(join(jobDir(id, 2), 'state', 'exit_code'), 'utf8').trim(), '0');
  });
});
