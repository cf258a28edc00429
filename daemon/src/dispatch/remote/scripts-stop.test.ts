import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseCancelOutput, parseProbeOutput, parseStartOutput, type HostJobState } from './markers.ts';
import {
  currentBootId, groupMembers, isAlive, leaseState, makeHost, makeJob, procStat, processesWith, readState, runScript, waitFor, waitForExit,
  type TestHost,
} from '../../../../test/support/job-host.ts';

const host = makeHost();
after(() => host.cleanup());

function probeState(jobDir: string, env: Record<string, string> = {}, on: TestHost = host): HostJobState | undefined {
  return parseProbeOutput(runScript(on, 'probe.sh', [jobDir], env)).jobs[0]?.state;
}

function identity(jobDir: string, file: 'pid' | 'job_pid'): { pid: number; pgid: number } {
  const [pid, pgid] = (readState(jobDir, file) ?? '').split(' ').map(Number);
  return { pid: pid ?? 0, pgid: pgid ?? 0 };
}

/** Wrappers for `jobDir`: run.sh processes leading their own group (run.sh's subshells are in its group). */
function wrappersOf(jobDir: string): number[] {
  return processesWith(join(jobDir, 'run.sh')).filter((pid) => procStat(pid)?.[2] === String(pid));
}

async function startRunning(jobDir: string, env: Record<string, string> = {}, on: TestHost = host): Promise<{ wrapper: number; job: number }> {
  const started = parseStartOutput(runScript(on, 'start.sh', [jobDir], env));
  assert.equal(started.state, 'started');
  await waitFor('the command to start', () => readState(jobDir, 'job_pid'));
  return { wrapper: identity(jobDir, 'pid').pid, job: identity(jobDir, 'job_pid').pgid };
}

void test('cancel TERMs the job through its wrapper: exit 143 well within the grace period, nothing left', async () => {
  const jobDir = makeJob(host, 'run-cancel', { command: 'sleep 60', gpus: ['0'], killGraceSeconds: 30 });
  const { wrapper, job } = await startRunning(jobDir);
  const asked = Date.now();
  assert.deepEqual(parseCancelOutput(runScript(host, 'cancel.sh', [jobDir])), { outcome: 'wrapper', pid: wrapper });
  assert.equal(await waitForExit(jobDir, 5000), 143);
  assert.ok(Date.now() - asked < 5000);
  assert.equal(readState(jobDir, 'stop_reason'), 'cancel\n');
  assert.deepEqual(groupMembers(job), []);
  assert.equal(isAlive(wrapper), false);
  assert.equal(leaseState(runScript(host, 'leases.sh', [host.lockDir, '0']), '0'), 'free');
  assert.deepEqual(parseCancelOutput(runScript(host, 'cancel.sh', [jobDir])), { outcome: 'finished', exitCode: 143 });
});

void test('a job that ignores TERM is KILLed after KEEL_KILL_GRACE_SECONDS: exit 137', async () => {
  const jobDir = makeJob(host, 'run-stubborn', { command: "trap '' TERM; sleep 60", killGraceSeconds: 1 });
  const { job } = await startRunning(jobDir);
  const asked = Date.now();
  runScript(host, 'cancel.sh', [jobDir]);
  assert.equal(await waitForExit(jobDir, 5000), 137);
  const took = Date.now() - asked;
  assert.ok(took >= 900 && took < 4000, `took ${took} ms`);
  assert.deepEqual(groupMembers(job), []);
});

void test('TERM to the wrapper (a host shutdown, say) stops the job with 143 and says so', async () => {
  const jobDir = makeJob(host, 'run-term', { command: 'sleep 60' });
  const { wrapper } = await startRunning(jobDir);
  process.kill(wrapper, 'SIGTERM');
  assert.equal(await waitForExit(jobDir), 143);
  assert.equal(readState(jobDir, 'stop_reason'), 'signal TERM\n');
});

void test('the wrapper notices state/cancel by itself at the next heartbeat', async () => {
  const jobDir = makeJob(host, 'run-cancel-file', { command: 'sleep 60' });
  await startRunning(jobDir);
  writeFileSync(join(jobDir, 'state', 'cancel'), '');
  assert.equal(await waitForExit(jobDir, 4000), 143);
  assert.equal(readState(jobDir, 'stop_reason'), 'cancel\n');
});

void test('processes a job leaves behind are stopped before exit_code, TERM-proof ones by KILL', async () => {
  const jobDir = makeJob(host, 'run-leftover', { command: "sleep 30 & (trap '' TERM; exec sleep 31) & echo bg; exit 4", gpus: ['1'] });
  const { job } = await startRunning(jobDir);
  assert.equal(await waitForExit(jobDir, 6000), 4);
  assert.deepEqual(groupMembers(job), []);
  assert.equal(readFileSync(join(jobDir, 'logs', 'output.log'), 'utf8'), 'bg\n');
  assert.equal(leaseState(runScript(host, 'leases.sh', [host.lockDir, '1']), '1'), 'free');
});

void test('kill -9 of the wrapper: lost (pid gone), never restarted; the orphaned job keeps its GPU until cancel KILLs it', async () => {
  const other = makeHost('kill host');
  try {
    // A command name that needs the careful /proc/<pid>/stat parse: ") (" and a newline.
    const name = 'x) (y\nz';
    const jobDir = makeJob(other, 'run-kill9', {
      gpus: ['0'],
      env: { NAME: name },
      // It ignores TERM too, so only cancel.sh's delayed KILL can end it.
      command: `cp "$(command -v sleep)" "$KEEL_JOB_DIR/$NAME" && trap '' TERM && exec "$KEEL_JOB_DIR/$NAME" 60`,
      killGraceSeconds: 1,
    });
    const { wrapper, job } = await startRunning(jobDir, {}, other);
    await waitFor('the renamed sleep', () => readFileSync(`/proc/${job}/comm`, 'utf8') === `${name}\n`);
    process.kill(wrapper, 'SIGKILL');
    await waitFor('the wrapper to die', () => !isAlive(wrapper));

    assert.deepEqual(probeState(jobDir, {}, other), { state: 'lost', reason: 'pid gone' });
    assert.deepEqual(parseStartOutput(runScript(other, 'start.sh', [jobDir])), { state: 'lost', reason: 'pid gone' });
    assert.deepEqual(wrappersOf(jobDir), []);
    assert.equal(readState(jobDir, 'exit_code'), undefined);
    // The job's processes inherited the lease: the GPU is still in use, so it stays busy.
    assert.equal(leaseState(runScript(other, 'leases.sh', [other.lockDir, '0']), '0'), 'busy');
    // And the heartbeat stopped with the wrapper.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.ok((parseProbeOutput(runScript(other, 'probe.sh', [jobDir])).jobs[0]?.heartbeatAgeSeconds ?? 0) >= 2);
    assert.deepEqual(processesWith(join(jobDir, 'run.sh')), []);

    const asked = Date.now();
    assert.deepEqual(parseCancelOutput(runScript(other, 'cancel.sh', [jobDir])), { outcome: 'group', pid: job });
    await waitFor('the orphaned job to end', () => groupMembers(job).length === 0, 5000);
    assert.ok(Date.now() - asked >= 900, 'it outlived the TERM until the KILL a grace period later');
    assert.equal(leaseState(runScript(other, 'leases.sh', [other.lockDir, '0']), '0'), 'free');
    assert.deepEqual(parseCancelOutput(runScript(other, 'cancel.sh', [jobDir])), { outcome: 'nothing-running' });
  } finally {
    other.cleanup();
  }
});

void test('kill -9 of the wrapper of a job that then ends by itself frees the GPU', async () => {
  const jobDir = makeJob(host, 'run-kill9-short', { gpus: ['2'], command: 'sleep 1' });
  const { wrapper, job } = await startRunning(jobDir);
  process.kill(wrapper, 'SIGKILL');
  await waitFor('the job to end', () => groupMembers(job).length === 0, 3000);
  await waitFor('GPU 2 to be free', () => leaseState(runScript(host, 'leases.sh', [host.lockDir, '2']), '2') === 'free', 3000);
  assert.deepEqual(probeState(jobDir), { state: 'lost', reason: 'pid gone' });
});

void test('a changed boot id means lost, even though a process with that pid runs', async () => {
  const bootFile = join(host.keelRoot, 'boot_id');
  writeFileSync(bootFile, `${currentBootId()}\n`);
  const env = { KEEL_BOOT_ID_FILE: bootFile };
  const jobDir = makeJob(host, 'run-reboot', { command: 'sleep 60' });
  const { wrapper } = await startRunning(jobDir, env);
  assert.deepEqual(probeState(jobDir, env), { state: 'running', pid: wrapper });

  writeFileSync(bootFile, '00000000-0000-4000-8000-000000000000\n');
  assert.deepEqual(probeState(jobDir, env), { state: 'lost', reason: 'boot id changed' });
  assert.deepEqual(parseStartOutput(runScript(host, 'start.sh', [jobDir], env)), { state: 'lost', reason: 'boot id changed' });
  assert.equal(parseProbeOutput(runScript(host, 'probe.sh', [jobDir], env)).bootId, '00000000-0000-4000-8000-000000000000');
  assert.deepEqual(wrappersOf(jobDir), [wrapper]);
  process.kill(wrapper, 'SIGTERM');
  assert.equal(await waitForExit(jobDir), 143);
});

void test('a live pid with another start time is someone else: lost (start time mismatch)', () => {
  const jobDir = makeJob(host, 'run-reused-pid', { command: 'true' });
  mkdirSync(join(jobDir, 'state'));
  writeFileSync(join(jobDir, 'state', 'pid'), `${process.pid} ${process.pid} ${currentBootId()} 1\n`);
  assert.deepEqual(probeState(jobDir), { state: 'lost', reason: 'start time mismatch' });
  writeFileSync(join(jobDir, 'state', 'pid'), 'garbage\n');
  assert.deepEqual(probeState(jobDir), { state: 'lost', reason: 'unreadable pid file' });
});

void test('launched without a pid is "starting", and lost after a minute', () => {
  const jobDir = makeJob(host, 'run-starting', { command: 'true' });
  mkdirSync(join(jobDir, 'state'));
  writeFileSync(join(jobDir, 'state', 'launched'), '0\n');
  assert.deepEqual(probeState(jobDir), { state: 'starting' });
  const past = new Date(Date.now() - 120_000);
  utimesSync(join(jobDir, 'state', 'launched'), past, past);
  assert.deepEqual(probeState(jobDir), { state: 'lost', reason: 'no pid 60 s after launch' });
});

void test('cancel before start finishes the job on the host, so no later start runs it', () => {
  const jobDir = makeJob(host, 'run-never', { command: 'touch "$KEEL_JOB_DIR/ran"' });
  assert.deepEqual(parseCancelOutput(runScript(host, 'cancel.sh', [jobDir])), { outcome: 'never-started' });
  assert.deepEqual(parseStartOutput(runScript(host, 'start.sh', [jobDir])), { state: 'finished', exitCode: 143 });
  assert.equal(readState(jobDir, 'error'), 'cancelled before start\n');
  assert.equal(existsSync(join(jobDir, 'ran')), false);
  assert.deepEqual(parseCancelOutput(runScript(host, 'cancel.sh', [join(host.keelRoot, 'jobs', 'none', '1')])), { outcome: 'missing' });
});
