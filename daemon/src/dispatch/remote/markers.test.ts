import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCancelOutput, parseLeasesOutput, parseProbeOutput, parseStartOutput, parseStateLine } from './markers.ts';

const BANNER = 'Welcome to Ubuntu 22.04.4 LTS (GNU/Linux 5.15.0-105-generic x86_64)\n * Documentation:  https://help.ubuntu.com\nconda: KEEL_STATE is not a thing here\n';

void test('start answers are found among login banners', () => {
  assert.deepEqual(parseStartOutput(`${BANNER}KEEL_STATE started 4242\nKEEL_END\n`), { state: 'started', pid: 4242 });
  assert.deepEqual(parseStartOutput('KEEL_STATE running 17\r\nKEEL_END\r\n'), { state: 'running', pid: 17 });
  assert.deepEqual(parseStartOutput('KEEL_STATE lost boot id changed\nKEEL_END\n'), { state: 'lost', reason: 'boot id changed' });
  assert.deepEqual(parseStartOutput('KEEL_STATE error no job.env in /j\nKEEL_END\n'), { state: 'error', reason: 'no job.env in /j' });
  assert.deepEqual(parseStartOutput('KEEL_STATE finished 137\nKEEL_END\n'), { state: 'finished', exitCode: 137 });
});

void test('cut-short or odd output is unreadable, never a verdict', () => {
  assert.deepEqual(parseStartOutput('KEEL_STATE started 4242\n'), { state: 'unreadable', reason: 'the output ends before KEEL_END' });
  assert.deepEqual(parseStartOutput(''), { state: 'unreadable', reason: 'the output ends before KEEL_END' });
  assert.deepEqual(parseStartOutput('KEEL_END\n'), { state: 'unreadable', reason: 'no KEEL_STATE line' });
  assert.deepEqual(parseStateLine('finished '), { state: 'unreadable', reason: 'exit code ""' });
  assert.deepEqual(parseStateLine('running abc'), { state: 'unreadable', reason: 'pid "abc"' });
  assert.deepEqual(parseStateLine('exploded 3'), { state: 'unreadable', reason: 'unknown state "exploded 3"' });
});

void test('a probe of several jobs keeps their order and fields', () => {
  const output = `${BANNER}KEEL_BOOT_ID 6f1c0a4e-1b2c-4d5e-8f90-0123456789ab
KEEL_JOB /home/u/.keel/jobs/r1/1
KEEL_STATE running 901
KEEL_HEARTBEAT 12
KEEL_LOG_SIZE 48213
KEEL_JOB /home/u/.keel/jobs/r2/1
KEEL_STATE finished 75
KEEL_HEARTBEAT 3600
KEEL_LOG_SIZE 0
KEEL_CANCEL yes
KEEL_STOP_REASON cancel
KEEL_ERROR gpu 1 busy
KEEL_JOB /home/u/.keel/jobs/r3/2
KEEL_STATE missing
KEEL_END
`;
  assert.deepEqual(parseProbeOutput(output), {
    bootId: '6f1c0a4e-1b2c-4d5e-8f90-0123456789ab',
    complete: true,
    jobs: [
      { jobDir: '/home/u/.keel/jobs/r1/1', state: { state: 'running', pid: 901 }, heartbeatAgeSeconds: 12, logBytes: 48213, error: null, cancelRequested: false, stopReason: null },
      { jobDir: '/home/u/.keel/jobs/r2/1', state: { state: 'finished', exitCode: 75 }, heartbeatAgeSeconds: 3600, logBytes: 0, error: 'gpu 1 busy', cancelRequested: true, stopReason: 'cancel' },
      { jobDir: '/home/u/.keel/jobs/r3/2', state: { state: 'missing' }, heartbeatAgeSeconds: null, logBytes: 0, error: null, cancelRequested: false, stopReason: null },
    ],
  });
  const cut = parseProbeOutput('KEEL_BOOT_ID b\nKEEL_JOB /j\n');
  assert.equal(cut.complete, false);
  assert.deepEqual(cut.jobs[0]?.state, { state: 'unreadable', reason: 'no KEEL_STATE line' });
  assert.equal(parseProbeOutput('KEEL_JOB /j\nKEEL_STATE new\nKEEL_HEARTBEAT none\nKEEL_END\n').jobs[0]?.heartbeatAgeSeconds, null);
});

void test('cancel and lease answers', () => {
  assert.deepEqual(parseCancelOutput('KEEL_CANCEL wrapper 77\nKEEL_END\n'), { outcome: 'wrapper', pid: 77 });
  assert.deepEqual(parseCancelOutput('KEEL_CANCEL group 78\nKEEL_END\n'), { outcome: 'group', pid: 78 });
  assert.deepEqual(parseCancelOutput('KEEL_CANCEL finished 0\nKEEL_END\n'), { outcome: 'finished', exitCode: 0 });
  assert.deepEqual(parseCancelOutput('KEEL_CANCEL never-started\nKEEL_END\n'), { outcome: 'never-started' });
  assert.deepEqual(parseCancelOutput('KEEL_CANCEL wrapper 77\n'), { outcome: 'unreadable', reason: 'no complete KEEL_CANCEL answer' });
  assert.deepEqual(parseLeasesOutput(`${BANNER}KEEL_GPU 0 busy\nKEEL_GPU GPU-8c2e free\nKEEL_GPU GPU-77 busy 4242 python3 stray.py --x\nKEEL_GPU x/y invalid bad GPU id: x/y\nKEEL_END\n`), new Map([
    ['0', { state: 'busy', pid: 0, command: '?' }], ['GPU-8c2e', { state: 'free' }],
    ['GPU-77', { state: 'busy', pid: 4242, command: 'python3 stray.py --x' }], ['x/y', { state: 'invalid', reason: 'bad GPU id: x/y' }],
  ]));
  assert.equal(parseLeasesOutput('KEEL_GPU 0 busy\n'), null);
});
