import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JobEnvError, renderJobEnv, type JobEnvSpec } from './job-env.ts';

const scratch = mkdtempSync(join(tmpdir(), 'keel-jobenv-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const BASE: JobEnvSpec = { runId: 'r-1', command: 'python train.py', gpus: [], outputDir: '/out' };

/** Sources `text` in bash, as run.sh does, and returns the named variables and KEEL_JOB_ENV. */
function sourceInBash(text: string, names: readonly string[]): { vars: Record<string, string>; jobEnv: string[] } {
  const file = join(scratch, 'job.env');
  writeFileSync(file, text);
  const script = `set -u; . "$1"; shift; for n in "$@"; do printf '%s\\0' "\${!n-<unset>}"; done; printf '\\1'; if (( \${#KEEL_JOB_ENV[@]} )); then printf '%s\\0' "\${KEEL_JOB_ENV[@]}"; fi`;
  const result = spawnSync('bash', ['-c', script, 'bash', file, ...names], { cwd: scratch, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const [values = '', env = ''] = result.stdout.split('\x01');
  const parts = values.split('\0');
  return {
    vars: Object.fromEntries(names.map((name, i) => [name, parts[i] ?? ''])),
    jobEnv: env === '' ? [] : env.slice(0, -1).split('\0'),
  };
}

void test('job.env for a plain spec is these exact lines', () => {
  assert.equal(renderJobEnv({ ...BASE, gpus: ['0', '3'], config: '/c.yaml', heartbeatSeconds: 15, killGraceSeconds: 0.5, env: { WANDB_MODE: 'offline' } }), [
    '# Written by Keel for run.sh, which sources it. Every value is single-quoted.',
    `KEEL_RUN_ID='r-1'`,
    `KEEL_COMMAND='python train.py'`,
    `KEEL_OUTPUT_DIR='/out'`,
    `KEEL_CONFIG='/c.yaml'`,
    `KEEL_CHECKPOINT=''`,
    `KEEL_GPUS='0,3'`,
    `KEEL_HEARTBEAT_SECONDS='15'`,
    `KEEL_KILL_GRACE_SECONDS='0.5'`,
    `KEEL_JOB_ENV=('WANDB_MODE=offline')`,
    '',
  ].join('\n'));
});

void test('sourcing job.env in bash gives back every value exactly and runs nothing', () => {
  const canary = join(scratch, 'pwned');
  const nasty = `it's "$(touch ${canary})" \`touch ${canary}\` $HOME \\ é 日本 🎉\nsecond line\t`;
  const spec: JobEnvSpec = {
    runId: 'run with space',
    command: `python train.py --config '/a b/c.yaml' # ${nasty}`,
    gpus: ['GPU-8c2e0d1a-aaaa', 'MIG-1.2'],
    outputDir: `/out/${nasty}`,
    checkpoint: '/ckpt/checkpoint-40',
    setupCommand: 'pip install -r requirements.txt\nsource .venv/bin/activate',
    keelRoot: '/home/u/.keel',
    codeDir: '/home/u/.keel/code/abc',
    env: { HF_HOME: '/data/hf cache', TRICKY: nasty, EMPTY: '', EQ: 'a=b=c' },
  };
  const names = ['KEEL_RUN_ID', 'KEEL_COMMAND', 'KEEL_GPUS', 'KEEL_OUTPUT_DIR', 'KEEL_CONFIG', 'KEEL_CHECKPOINT', 'KEEL_SETUP_COMMAND', 'KEEL_ROOT', 'KEEL_CODE_DIR', 'KEEL_HEARTBEAT_SECONDS'];
  const { vars, jobEnv } = sourceInBash(renderJobEnv(spec), names);
  assert.deepEqual(vars, {
    KEEL_RUN_ID: spec.runId,
    KEEL_COMMAND: spec.command,
    KEEL_GPUS: 'GPU-8c2e0d1a-aaaa,MIG-1.2',
    KEEL_OUTPUT_DIR: spec.outputDir,
    KEEL_CONFIG: '',
    KEEL_CHECKPOINT: '/ckpt/checkpoint-40',
    KEEL_SETUP_COMMAND: spec.setupCommand,
    KEEL_ROOT: '/home/u/.keel',
    KEEL_CODE_DIR: '/home/u/.keel/code/abc',
    KEEL_HEARTBEAT_SECONDS: '<unset>',
  });
  assert.deepEqual(jobEnv, ['HF_HOME=/data/hf cache', `TRICKY=${nasty}`, 'EMPTY=', 'EQ=a=b=c']);
  assert.equal(existsSync(canary), false);
});

void test('an empty user env is an empty array; a blank setup and scheduler-chosen GPUs are left out', () => {
  const text = renderJobEnv({ ...BASE, setupCommand: '  ', gpus: null });
  assert.ok(text.endsWith('KEEL_JOB_ENV=()\n'));
  assert.ok(!text.includes('KEEL_SETUP_COMMAND') && !text.includes('KEEL_GPUS'));
  const names = ['KEEL_SETUP_COMMAND', 'KEEL_GPUS'];
  assert.deepEqual(sourceInBash(text, names), { vars: { KEEL_SETUP_COMMAND: '<unset>', KEEL_GPUS: '<unset>' }, jobEnv: [] });
  assert.equal(sourceInBash(renderJobEnv(BASE), ['KEEL_GPUS']).vars.KEEL_GPUS, '');
});

void test('what cannot be written safely is refused, naming the field', () => {
  const refused = (spec: Partial<JobEnvSpec>, message: RegExp): void => {
    assert.throws(() => renderJobEnv({ ...BASE, ...spec }), (error: unknown) => error instanceof JobEnvError && message.test(error.message));
  };
  refused({ runId: '' }, /runId is empty/);
  refused({ command: ' \n' }, /command is empty/);
  refused({ gpus: ['0', '../x'] }, /GPU id "..\/x"/);
  refused({ gpus: [''] }, /GPU id ""/);
  refused({ keelRoot: '~/.keel' }, /keelRoot must be an absolute path/);
  refused({ codeDir: 'code' }, /codeDir must be an absolute path/);
  refused({ env: { 'BAD-NAME': 'x' } }, /"BAD-NAME" is not a shell name/);
  refused({ env: { '1X': 'x' } }, /"1X" is not a shell name/);
  refused({ env: { KEEL_COMMAND: 'x' } }, /KEEL_ are Keel's own/);
  refused({ env: { CUDA_VISIBLE_DEVICES: '0' } }, /set by Keel from the GPUs it leases/);
  refused({ heartbeatSeconds: 0 }, /heartbeatSeconds must be between 0.1 and 86400/);
  refused({ killGraceSeconds: Number.NaN }, /killGraceSeconds/);
  assert.throws(() => renderJobEnv({ ...BASE, command: 'a\0b' }), /NUL/);
});
