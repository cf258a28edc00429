/**
 * Pure logic behind what users read: error messages with a next step, the status bar text,
 * the launch wizard's parsing and choices, keel.yaml reading, and dataset profile warnings.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DaemonNotRunningError } from '../../daemon/src/client/client.ts';
import { DaemonStartError } from '../../daemon/src/client/ensure.ts';
import { RpcError, type HostInfo } from '../../daemon/src/protocol/index.ts';
import { describeError, ExplainedError, NoProjectError } from './errors.ts';
import { profileFacts, profileWarnings } from './datasets/profile-warnings.ts';
import { gpuCounts, hostChoices, launchSummary, orderConfigs, parseGrid, parseLaunchRequest, parseOverrides, splitArgs } from './launch/launch-input.ts';
import { summarizeKeelYaml } from './project/keel-yaml.ts';
import { statusText } from './status/status-text.ts';
import { ago, formatBytes, formatValue } from './format.ts';

const exampleRoot = resolve(import.meta.dirname, '..', '..', 'examples', 'tiny-finetune');

describe('error messages', () => {
  it('give each daemon code a next step and the matching buttons', () => {
    const unreachable = describeError(new RpcError('E_HOST_UNREACHABLE', 'ssh gpu1: Connection refused'), 'Launch failed');
    assert.equal(unreachable.message, 'Launch failed: ssh gpu1: Connection refused. Check that `ssh` to the host works from a terminal, then run Keel: Check Host.');
    assert.deepEqual(unreachable.actions, ['checkHost', 'showOutput']);
    const invalid = describeError(new RpcError('E_CONFIG_INVALID', 'keel.yaml in /p has errors:\nkeel.yaml:3:1 configs must be a list'));
    assert.match(invalid.message, /fix the marked line\.$/);
    assert.deepEqual(invalid.actions, ['openKeelYaml']);
    assert.deepEqual(describeError(new RpcError('E_PROTOCOL_MISMATCH', 'protocol version mismatch')).actions, ['restartDaemon']);
    assert.deepEqual(describeError(new RpcError('E_NOT_FOUND', '/p/c.yaml is not inside a registered project; run `keel init` in the project folder first')).actions, ['initProject']);
    assert.deepEqual(describeError(new RpcError('E_NOT_FOUND', 'no run "x"')), { code: 'E_NOT_FOUND', message: 'no run "x".', actions: [] });
    assert.equal(describeError(new RpcError('E_SHUTTING_DOWN', 'bye')).message, 'The Keel daemon is restarting. Try again in a moment.');
  });

  it('explain the client-side failures: no daemon, a dropped connection, no project', () => {
    const start = describeError(new DaemonStartError('the daemon exited with code 1: NODE_MODULE_VERSION 127 vs 115'));
    assert.match(start.message, /^Keel could not start its daemon: the daemon exited with code 1: NODE_MODULE_VERSION 127 vs 115\. If VS Code's runtime cannot run it, set keel\.daemon\.nodePath/);
    assert.deepEqual(start.actions, ['showOutput', 'openSettings']);
    assert.equal(describeError(new DaemonNotRunningError('/k/daemon.sock', 'ENOENT')).code, 'E_DAEMON_NOT_RUNNING');
    assert.match(describeError(new RpcError('E_INTERNAL', 'lost the daemon connection: connection closed (1006)')).message, /reconnects by itself/);
    const none = describeError(new NoProjectError());
    assert.equal(none.message, 'This workspace has no keel.yaml, so Keel has no project here. Run Keel: Initialize Project to create one.');
    assert.deepEqual(none.actions, ['initProject']);
    assert.deepEqual(describeError(new Error('weird')), { code: undefined, message: 'weird.', actions: ['showOutput'] });
  });

  it('are not explained twice', () => {
    const once = new ExplainedError(describeError(new RpcError('E_PROTOCOL_MISMATCH', 'x')));
    const twice = describeError(once, 'Refresh failed');
    assert.equal(twice.message, `Refresh failed: ${once.message}`);
    assert.deepEqual(twice.actions, ['restartDaemon']);
  });
});

describe('status bar text', () => {
  it('shows the daemon state and run counts', () => {
    assert.equal(statusText({ kind: 'connected', pid: 4242, version: '0.1.0' }, { running: 2, queued: 1 }).text, '$(pulse) 2 running · 1 queued');
    assert.equal(statusText({ kind: 'connected', pid: 4242, version: '0.1.0' }, null).text, '$(pulse) 0 running · 0 queued');
    assert.equal(statusText({ kind: 'connecting' }, null).text, '$(sync~spin) Keel');
    const down = statusText({ kind: 'disconnected', reason: 'connection closed (1006)', retrying: true }, { running: 2, queued: 0 });
    assert.deepEqual(down, {
      text: '$(debug-disconnect) Keel disconnected',
      tooltip: 'Keel daemon disconnected: connection closed (1006). Reconnecting… Click to open the Keel Runs view.',
      warning: true,
    });
    assert.match(statusText({ kind: 'disconnected', reason: 'protocol', retrying: false }, null).tooltip, /Keel: Restart Daemon/);
  });
});

describe('launch input', () => {
  it('validates key=value overrides as the user types', () => {
    assert.deepEqual(parseOverrides('learning_rate=0.1  num_train_epochs=2'), { ok: true, value: ['learning_rate=0.1', 'num_train_epochs=2'] });
    assert.deepEqual(parseOverrides(''), { ok: true, value: [] });
    assert.deepEqual(parseOverrides('optimizer.lr=3e-4 "run_name=my run" datasets[0].path=/d'), { ok: true, value: ['optimizer.lr=3e-4', 'run_name=my run', 'datasets[0].path=/d'] });
    assert.deepEqual(parseOverrides('learning_rate'), { ok: false, error: '"learning_rate" must look like key=value' });
    assert.deepEqual(parseOverrides('=3'), { ok: false, error: '"=3" must look like key=value' });
    assert.deepEqual(parseOverrides('lr=1 lr=2'), { ok: false, error: 'lr is set twice' });
    assert.deepEqual(parseOverrides('a b=1'), { ok: false, error: '"a" must look like key=value' });
    assert.deepEqual(parseOverrides('x="1'), { ok: false, error: 'unclosed " quote' });
    assert.deepEqual(parseOverrides('bad key!=1'), { ok: false, error: '"bad" must look like key=value' });
    assert.deepEqual(splitArgs(`a='' b`), { ok: true, value: ['a=', 'b'] });
  });

  it('counts sweep grid points and refuses more than 500', () => {
    assert.deepEqual(parseGrid('learning_rate=0.05,0.1,0.2 warmup_steps=0,20'), { ok: true, value: { grid: ['learning_rate=0.05,0.1,0.2', 'warmup_steps=0,20'], points: 6 } });
    assert.deepEqual(parseGrid('lr=,'), { ok: false, error: 'lr has no values' });
    assert.deepEqual(parseGrid(''), { ok: false, error: 'enter at least one key=v1,v2' });
    const big = Array.from({ length: 9 }, (_, i) => `k${i}=1,2`).join(' ');
    assert.deepEqual(parseGrid(big), { ok: false, error: 'that is 512 runs; at most 500 at once' });
  });

  it('offers Local first, hosts with free/total GPUs and reachability, then Any host', () => {
    const host = (name: string, over: Partial<HostInfo>): HostInfo => ({
      name, backend: 'ssh', sshTarget: name, workdir: '~/.keel-work', costPerHour: null, labels: [], reachable: true, checkedAt: T0(), gpus: [],
      gpusFree: 0, gpusTotal: 0, runningRuns: 0, ...over,
    });
    const choices = hostChoices([
      host('local', { backend: 'local', sshTarget: null }),
      host('gpu2', { reachable: false, gpusTotal: 8, gpusFree: 8 }),
      host('gpu1', { gpusTotal: 4, gpusFree: 2, runningRuns: 1 }),
      host('new', { reachable: null }),
    ]);
    assert.deepEqual(choices.map((c) => `${c.label} — ${c.description}`), [
      '$(vm) Local — this machine · 0/0 GPUs free',
      '$(server) gpu1 — 2/4 GPUs free · reachable · 1 run running',
      '$(server) gpu2 — 8/8 GPUs free · unreachable',
      '$(server) new — 0/0 GPUs free · not checked yet',
      '$(layers) Any host — the first reachable host with enough free GPUs (queued until one has them)',
    ]);
    assert.deepEqual(gpuCounts(choices[1] ?? { gpusTotal: -1 }), [0, 1, 2, 3, 4]);
    assert.deepEqual(gpuCounts(choices[0] ?? { gpusTotal: -1 }), [0]);
    assert.equal(hostChoices([host('local', { backend: 'local' })]).length, 1, 'no "Any host" without SSH hosts');
  });

  it('puts the active editor config first and summarises the launch in one line', () => {
    assert.deepEqual(orderConfigs(['/p/configs/b.yaml', '/p/configs/a.yaml', '/p/configs/b.yaml'], '/p/configs/b.yaml'), ['/p/configs/b.yaml', '/p/configs/a.yaml']);
    assert.deepEqual(orderConfigs(['/p/b.json', '/p/a.yml'], '/p/keel.yaml'), ['/p/a.yml', '/p/b.json'], 'keel.yaml is not a training config');
    assert.equal(launchSummary({ config: 'configs/baseline.yaml', target: { kind: 'local' }, gpus: 0, set: ['learning_rate=0.1'] }), 'configs/baseline.yaml on local · 0 GPUs · learning_rate=0.1');
    assert.equal(launchSummary({ config: 'c.yaml', target: { kind: 'host', name: 'gpu1' }, gpus: 1, set: [], sweepRuns: 6 }), 'c.yaml on gpu1 · 1 GPU · 6 runs');
  });

  it('reads launch requests from callers, refusing bad overrides', () => {
    assert.deepEqual(parseLaunchRequest({ config: '/p/c.yaml', host: 'local', gpus: 0, set: ['max_steps=20'] }), { ok: true, value: { config: '/p/c.yaml', target: { kind: 'local' }, gpus: 0, set: ['max_steps=20'] } });
    assert.deepEqual(parseLaunchRequest({ host: 'gpu1', gpus: 1.5 }), { ok: true, value: { target: { kind: 'host', name: 'gpu1' } } });
    assert.deepEqual(parseLaunchRequest({ set: ['nope'] }), { ok: false, error: '"nope" must look like key=value' });
    assert.deepEqual(parseLaunchRequest(undefined), { ok: true, value: {} });
  });
});

describe('keel.yaml for the launch picker', () => {
  it('reads the example project name and config globs', () => {
    const summary = summarizeKeelYaml(readFileSync(resolve(exampleRoot, 'keel.yaml'), 'utf8'));
    assert.deepEqual(summary, { name: 'tiny-finetune', configs: ['configs/*.yaml'] });
  });

  it('never throws on a broken or odd file', () => {
    assert.deepEqual(summarizeKeelYaml('name: [unclosed'), { name: null, configs: [] });
    assert.deepEqual(summarizeKeelYaml('- a list'), { name: null, configs: [] });
    assert.deepEqual(summarizeKeelYaml('configs: cfg/*.json\nname: 7'), { name: null, configs: ['cfg/*.json'] });
  });
});

describe('dataset profile warnings', () => {
  it('reads a folder profile file by file, skipping fields of the wrong type', () => {
    const folder = {
      kind: 'folder',
      files: {
        'a.jsonl': { duplicateRows: 3, duplicatesApproximate: true, invalidLineCount: 2, invalidLines: [{ line: 17, message: 'Unexpected token } in JSON' }], emptyRows: 1, pii: { emails: 0, phones: 4, apiKeys: 1 }, rows: 10 },
        'b.csv': { duplicateRows: 'many', pii: null, rows: 5 },
      },
      errors: [{ path: 'c.bin', message: 'binary' }],
      truncated: true,
      totals: { rows: 15, tokensEstimate: 2073 },
    };
    assert.deepEqual(profileWarnings(folder), [
      'a.jsonl: 3 duplicate rows (at least)',
      'a.jsonl: 2 invalid lines (first at line 17: Unexpected token } in JSON)',
      'a.jsonl: 1 empty row',
      'a.jsonl: 4 rows with a phone number',
      'a.jsonl: 1 row with an API key or token',
      'c.bin: not profiled: binary',
      'only the first files were profiled',
    ]);
    assert.equal(profileFacts(folder), '15 rows · ~2.1k tokens');
    assert.deepEqual(profileWarnings(null), []);
    assert.deepEqual(profileWarnings({ kind: 'file', error: 'EACCES' }), ['not profiled: EACCES']);
  });

  it('says which files a version left out and why (the daemon stores the first ones)', () => {
    const folder = {
      kind: 'folder', files: {}, errors: [],
      skipped: { count: 5, paths: [{ path: 'pipe', kind: 'not-regular-file', reason: 'not a regular file (device, socket or FIFO)' }, { path: 'root', kind: 'outside-link', reason: 'link leaves the dataset folder: -> /' }] },
    };
    assert.deepEqual(profileWarnings(folder), ['5 files left out of this version: pipe (not a regular file (device, socket or FIFO)), root (link leaves the dataset folder: -> /), …']);
    assert.deepEqual(profileWarnings({ kind: 'folder', files: {}, skipped: { count: 0, paths: [] } }), []);
  });
});

describe('formatting', () => {
  it('formats sizes, values and ages for labels', () => {
    assert.deepEqual([0, 999, 17693, 4.2e9, null].map((b) => formatBytes(b)), ['0 B', '999 B', '17.7 KB', '4.2 GB', '?']);
    assert.deepEqual([0.26389965115614805, 3e-5, 1234567, null, Infinity, 0].map(formatValue), ['0.2639', '3.00e-5', '1.23e+6', 'NaN', 'inf', '0']);
    assert.deepEqual([10_000, 600_000, 7_200_000, 172_800_000].map((d) => ago(0, d)), ['just now', '10 min ago', '2 h ago', '2 d ago']);
  });
});

function T0(): number {
  return Date.UTC(2026, 10, 22, 12, 0, 0);
}
