import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseProbeOutput, parseStartOutput } from './markers.ts';
import { shellQuote } from './quote.ts';
import { JOB_SCRIPTS, jobScriptsVersion } from './scripts.ts';
import {
  currentBootId, installScripts, isAlive, leaseState, leaseStates, makeHost, makeJob, procStat, processesWith, readState, runScript, runScriptAsync, waitFor, waitForExit,
} from '../../../../test/support/job-host.ts';

const host = makeHost();
after(() => host.cleanup());

void test('every script is valid bash, and clean under shellcheck when it is installed', () => {
  for (const [name, text] of Object.entries(JOB_SCRIPTS)) {
    const syntax = spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
    assert.equal(syntax.status, 0, `${name}: ${syntax.stderr}`);
    assert.ok(text.startsWith('#!/usr/bin/env bash\n'), name);
    const lint = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: text, encoding: 'utf8' });
    if (lint.error === undefined) assert.equal(lint.status, 0, `${name}:\n${lint.stdout}`);
  }
});

void test('the installer the daemon ships writes every script, 0700, and never nests into a folder that exists', () => {
  const dir = join(host.keelRoot, 'bin', jobScriptsVersion());
  installScripts(dir);
  assert.deepEqual(readdirSync(dir).sort(), Object.keys(JOB_SCRIPTS).sort());
  for (const [name, text] of Object.entries(JOB_SCRIPTS)) {
    assert.equal(statSync(join(dir, name)).mode & 0o777, 0o700);
    assert.equal(readFileSync(join(dir, name), 'utf8'), text);
  }
  // Run again (another daemon, a retry): the folder is kept as it is, nothing is nested in it.
  installScripts(dir);
  assert.deepEqual(readdirSync(dir).sort(), Object.keys(JOB_SCRIPTS).sort());
  assert.deepEqual(readdirSync(join(dir, '..')).filter((n) => n.includes('.tmp')), []);
  assert.match(jobScriptsVersion(), /^[0-9a-f]{16}$/);
  assert.equal(jobScriptsVersion(), jobScriptsVersion());
});

void test('a job runs to its exit code, logs, heartbeats, and records who it is', async () => {
  const jobDir = makeJob(host, 'run-exit', { command: 'echo hi; sleep 2.5; exit 3' });
  const started = parseStartOutput(runScript(host, 'start.sh', [jobDir]));
  assert.equal(started.state, 'started');
  const pid = started.state === 'started' ? started.pid : 0;

  // state/pid is "pid pgid boot_id starttime"; start.sh's setsid makes the wrapper a group leader.
  const [recordedPid, pgid, bootId, startTime] = (readState(jobDir, 'pid') ?? '').trimEnd().split(' ');
  assert.equal(Number(recordedPid), pid);
  assert.equal(Number(pgid), pid);
  assert.equal(bootId, currentBootId());
  assert.equal(startTime, procStat(pid)?.[19]);

  // Starting again reports the same wrapper and starts nothing.
  assert.deepEqual(parseStartOutput(runScript(host, 'start.sh', [jobDir])), { state: 'running', pid });
  // Wrapper-like processes that lead their own group: the heartbeat subshell is in ours.
  assert.deepEqual(processesWith(join(jobDir, 'run.sh')).filter((p) => procStat(p)?.[2] === String(p)), [pid]);

  const firstBeat = await waitFor('a heartbeat', () => readState(jobDir, 'heartbeat') !== undefined && statSync(join(jobDir, 'state', 'heartbeat')).mtimeMs);
  await waitFor('a later heartbeat', () => statSync(join(jobDir, 'state', 'heartbeat')).mtimeMs > firstBeat, 3000);

  assert.equal(await waitForExit(jobDir), 3);
  assert.equal(readState(jobDir, 'exit_code'), '3\n');
  assert.equal(readFileSync(join(jobDir, 'logs', 'output.log'), 'utf8'), 'hi\n');
  assert.match(readState(jobDir, 'ended_at') ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n$/);
  assert.equal(readState(jobDir, 'error'), undefined);
  assert.equal(isAlive(pid), false);

  const report = parseProbeOutput(runScript(host, 'probe.sh', [jobDir]));
  assert.equal(report.complete, true);
  assert.equal(report.bootId, currentBootId());
  assert.equal(report.jobs.length, 1);
  assert.deepEqual(report.jobs[0]?.state, { state: 'finished', exitCode: 3 });
  assert.equal(report.jobs[0]?.logBytes, 3);
  assert.ok((report.jobs[0]?.heartbeatAgeSeconds ?? -1) >= 0);
  assert.deepEqual(parseStartOutput(runScript(host, 'start.sh', [jobDir])), { state: 'finished', exitCode: 3 });
});

void test('two starts at once launch one wrapper', async () => {
  const jobDir = makeJob(host, 'run-race', { command: 'sleep 1' });
  const answers = (await Promise.all([runScriptAsync(host, 'start.sh', [jobDir]), runScriptAsync(host, 'start.sh', [jobDir])])).map(parseStartOutput);
  const states = answers.map((a) => a.state).sort();
  assert.deepEqual(states, ['running', 'started']);
  const pids = new Set(answers.map((a) => ('pid' in a ? a.pid : 0)));
  assert.equal(pids.size, 1);
  assert.equal(await waitForExit(jobDir), 0);
});

void test('probe reports many jobs in argument order, changing nothing', () => {
  const fresh = makeJob(host, 'run-new', { command: 'true' });
  const report = parseProbeOutput(runScript(host, 'probe.sh', [fresh, join(host.keelRoot, 'jobs', 'no-such-run', '1')]));
  assert.deepEqual(report.jobs.map((j) => [j.state.state, j.heartbeatAgeSeconds, j.logBytes]), [['new', null, 0], ['missing', null, 0]]);
  assert.equal(existsSync(join(fresh, 'state')), false);
  assert.equal(report.complete, true);
});

void test('a GPU leased to a running job makes a second job exit 75 "gpu busy"; CUDA_VISIBLE_DEVICES is what was leased', async () => {
  const first = makeJob(host, 'run-gpu-a', { gpus: ['0', '1'], command: 'printf %s "$CUDA_VISIBLE_DEVICES" > "$KEEL_JOB_DIR/cuda.txt"; sleep 3' });
  const second = makeJob(host, 'run-gpu-b', { gpus: ['2', '1'], command: 'echo should not run' });
  assert.equal(parseStartOutput(runScript(host, 'start.sh', [first])).state, 'started');
  // The shell creates cuda.txt before printf fills it: wait for its content, not its existence.
  await waitFor('the first job to run', () => existsSync(join(first, 'cuda.txt')) && readFileSync(join(first, 'cuda.txt'), 'utf8') !== '');
  assert.equal(readFileSync(join(first, 'cuda.txt'), 'utf8'), '0,1');
  assert.deepEqual(leaseStates(runScript(host, 'leases.sh', [host.lockDir, '0', '1', '2', 'x/y'])), new Map([
    ['0', 'busy'], ['1', 'busy'], ['2', 'free'], ['x/y', 'invalid'],
  ]));

  runScript(host, 'start.sh', [second]);
  assert.equal(await waitForExit(second), 75);
  assert.equal(readState(second, 'error'), 'gpu 1 busy\n');
  assert.equal(readFileSync(join(second, 'logs', 'output.log'), { encoding: 'utf8', flag: 'a+' }), '');
  // The failed job let go of GPU 2, which it had locked before finding GPU 1 taken.
  assert.equal(leaseState(runScript(host, 'leases.sh', [host.lockDir, '2']), '2'), 'free');

  assert.equal(await waitForExit(first), 0);
  assert.deepEqual(leaseStates(runScript(host, 'leases.sh', [host.lockDir, '0', '1'])), new Map([['0', 'free'], ['1', 'free']]));
});

void test('the job sees its variables, runs from the code dir, and gets the user env exactly', async () => {
  // Values are literal: LITERAL keeps its "$HOME".
  const env = { A: 'b c', LITERAL: '$HOME/bin:$PATH', TRICKY: `x'y "$(touch pwned)" \`id\` é 日本 🎉\nline 2` };
  const jobDir = makeJob(host, 'run-env', {
    command: 'for v in CUDA_VISIBLE_DEVICES KEEL_RUN_ID KEEL_OUTPUT_DIR KEEL_CONFIG KEEL_CHECKPOINT KEEL_JOB_DIR PYTHONUNBUFFERED A LITERAL TRICKY; do printf "%s=%s\\0" "$v" "${!v-unset}"; done; printf "PWD=%s\\0" "$PWD"',
    config: '/cfg/my config.yaml',
    env,
  });
  runScript(host, 'start.sh', [jobDir]);
  assert.equal(await waitForExit(jobDir), 0);
  const seen = Object.fromEntries(readFileSync(join(jobDir, 'logs', 'output.log'), 'utf8').split('\0').filter(Boolean).map((kv) => {
    const at = kv.indexOf('=');
    return [kv.slice(0, at), kv.slice(at + 1)];
  }));
  assert.deepEqual(seen, {
    CUDA_VISIBLE_DEVICES: '',
    KEEL_RUN_ID: 'run-env',
    KEEL_OUTPUT_DIR: join(host.keelRoot, 'outputs', 'run-env'),
    KEEL_CONFIG: '/cfg/my config.yaml',
    KEEL_CHECKPOINT: '',
    KEEL_JOB_DIR: jobDir,
    PYTHONUNBUFFERED: '1',
    ...env,
    PWD: host.codeDir,
  });
  assert.equal(existsSync(join(host.codeDir, 'pwned')), false);
});

void test('a job whose GPUs a scheduler chose keeps the CUDA_VISIBLE_DEVICES it was given', async () => {
  const jobDir = makeJob(host, 'run-slurm', { gpus: null, command: 'printf %s "$CUDA_VISIBLE_DEVICES"' });
  runScript(host, 'start.sh', [jobDir], { CUDA_VISIBLE_DEVICES: '7' });
  assert.equal(await waitForExit(jobDir), 0);
  assert.equal(readFileSync(join(jobDir, 'logs', 'output.log'), 'utf8'), '7');
});

void test('placeholder values, quoted by the daemon, reach the job as exact argv', async () => {
  const canary = join(host.keelRoot, `pwned-${process.pid}`);
  const values = ['my file.yaml', `it's`, '"dq"', `$(touch ${canary})`, `\`touch ${canary}\``, 'a;b|c&d', 'new\nline', 'tab\there', '*', '~', '-rf', '', 'é 日本 🎉', '\\back\\slash'];
  const jobDir = makeJob(host, 'run-argv', { command: `printf '%s\\0' ${values.map(shellQuote).join(' ')}` });
  runScript(host, 'start.sh', [jobDir]);
  assert.equal(await waitForExit(jobDir), 0);
  const log = readFileSync(join(jobDir, 'logs', 'output.log'), 'utf8');
  assert.deepEqual(log.split('\0').slice(0, -1), values);
  assert.equal(existsSync(canary), false);
});

void test('setup runs once per code dir across jobs, again when its text changes, and its failure stops the job', async () => {
  const setup = 'echo ran >> setup-count.txt; sleep 0.5';
  const jobs = ['run-setup-a', 'run-setup-b'].map((run) => makeJob(host, run, { setupCommand: setup, command: 'cat setup-count.txt' }));
  await Promise.all(jobs.map((jobDir) => runScriptAsync(host, 'start.sh', [jobDir])));
  for (const jobDir of jobs) assert.equal(await waitForExit(jobDir), 0);
  assert.equal(readFileSync(join(host.codeDir, 'setup-count.txt'), 'utf8'), 'ran\n');
  assert.equal(readFileSync(join(host.codeDir, '.keel-setup-done'), 'utf8'), setup);

  const changed = makeJob(host, 'run-setup-c', { setupCommand: `${setup} # v2`, command: 'true' });
  runScript(host, 'start.sh', [changed]);
  assert.equal(await waitForExit(changed), 0);
  assert.equal(readFileSync(join(host.codeDir, 'setup-count.txt'), 'utf8'), 'ran\nran\n');

  const failing = makeJob(host, 'run-setup-fail', { setupCommand: 'echo installing; exit 7', command: 'touch command-ran' });
  runScript(host, 'start.sh', [failing]);
  assert.equal(await waitForExit(failing), 7);
  assert.equal(readState(failing, 'error'), 'setup failed\n');
  assert.equal(readFileSync(join(failing, 'logs', 'output.log'), 'utf8'), 'installing\n');
  assert.equal(existsSync(join(host.codeDir, 'command-ran')), false);
  assert.equal(readFileSync(join(host.codeDir, '.keel-setup-done'), 'utf8'), `${setup} # v2`);
});

void test('a job dir and code dir with spaces, quotes and Unicode in their paths work end to end', async () => {
  const odd = makeHost(`keel "q" 'sq' $(x) é 日本 🎉`);
  try {
    const jobDir = makeJob(odd, 'run 1 é', { command: 'pwd; echo "$KEEL_RUN_ID"', gpus: ['0'] });
    assert.equal(parseStartOutput(runScript(odd, 'start.sh', [jobDir])).state, 'started');
    assert.equal(await waitForExit(jobDir), 0);
    assert.equal(readFileSync(join(jobDir, 'logs', 'output.log'), 'utf8'), `${odd.codeDir}\nrun 1 é\n`);
    const report = parseProbeOutput(runScript(odd, 'probe.sh', [jobDir]));
    assert.equal(report.jobs[0]?.jobDir, jobDir);
    assert.deepEqual(report.jobs[0]?.state, { state: 'finished', exitCode: 0 });
    assert.equal(existsSync(join(odd.keelRoot, 'gpus', '0.lock')), true);
  } finally {
    odd.cleanup();
  }
});

void test('unusable job dirs: no job.env or no run.sh is a start error; an empty job.env or a missing code dir finishes 78', async () => {
  const noEnv = makeJob(host, 'run-no-env', { command: 'true' });
  rmSync(join(noEnv, 'job.env'));
  assert.deepEqual(parseStartOutput(runScript(host, 'start.sh', [noEnv])), { state: 'error', reason: `no job.env in ${noEnv}` });
  const noWrapper = makeJob(host, 'run-no-wrapper', { command: 'true' });
  rmSync(join(noWrapper, 'run.sh'));
  assert.deepEqual(parseStartOutput(runScript(host, 'start.sh', [noWrapper])), { state: 'error', reason: `no run.sh in ${noWrapper}` });
  assert.deepEqual(parseProbeOutput(runScript(host, 'probe.sh', [noEnv, noWrapper])).jobs.map((j) => j.state.state), ['new', 'new']);

  const emptyEnv = makeJob(host, 'run-empty-env', { command: 'true' });
  writeFileSync(join(emptyEnv, 'job.env'), '');
  runScript(host, 'start.sh', [emptyEnv]);
  assert.equal(await waitForExit(emptyEnv), 78);
  assert.equal(readState(emptyEnv, 'error'), 'job.env sets no KEEL_COMMAND\n');

  const missingCode = makeJob(host, 'run-no-code', { command: 'true', codeDir: join(host.keelRoot, 'code', 'nope') });
  runScript(host, 'start.sh', [missingCode]);
  assert.equal(await waitForExit(missingCode), 78);
  assert.equal(readState(missingCode, 'error'), `code dir missing: ${join(host.keelRoot, 'code', 'nope')}\n`);
  const report = parseProbeOutput(runScript(host, 'probe.sh', [missingCode]));
  assert.equal(report.jobs[0]?.error, `code dir missing: ${join(host.keelRoot, 'code', 'nope')}`);

  assert.deepEqual(parseStartOutput(runScript(host, 'start.sh', [join(host.keelRoot, 'jobs', 'none', '1')])), { state: 'missing' });
});
