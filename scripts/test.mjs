// Runs every *.test.ts under daemon/, extension/, webview/ and test/ with node:test.
// Node >= 22.18 strips TypeScript types natively, so tests run against the sources.
// Afterwards it looks for Keel daemons that a test started and left running (every process
// the run starts inherits KEEL_TEST_RUN); any such leak fails the run, and is killed.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['daemon', 'extension', 'webview', 'test'];
const only = process.argv.slice(2);
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
}
for (const r of roots) { try { walk(r); } catch { /* root absent */ } }
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;

// The hostile suites assert the daemon's status latency (p99 < 100 ms) while it chews on a
// hostile input. On a 2-core machine a second test file running beside them (an e2e suite,
// a real-sshd dispatch suite) takes the cores those bounds measure, so they get a pass of
// their own, one file at a time, after the rest. So do the Slurm suites: each brings up a real
// Slurm cluster, and two on one machine would share cgroup names (job ids start at 1 in each).
const alone = selected.filter((f) => f.split(/[\\/]/).includes('hostile') || (f.split(/[\\/]/)[0] === 'test' && /slurm/i.test(f.split(/[\\/]/).at(-1) ?? '')));
const shared = selected.filter((f) => !alone.includes(f));

const runId = randomUUID();
function runPass(files, concurrency) {
  if (files.length === 0) return 0;
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...files.sort()], {
    stdio: 'inherit', env: { ...process.env, KEEL_TEST_RUN: runId },
  });
  return r.status ?? 1;
}
const sharedStatus = runPass(shared, 2);
if (alone.length > 0 && shared.length > 0) process.stdout.write(`\n# hostile and Slurm suites, one file at a time (${alone.length} files)\n`);
const aloneStatus = runPass(alone, 1);
const res = { status: sharedStatus !== 0 ? sharedStatus : aloneStatus };

/** Keel daemons (process title `keel-daemon`) whose environment carries this run's id. */
function leakedDaemons() {
  const found = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('keel-daemon')) continue;
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!env.includes(`KEEL_TEST_RUN=${runId}`)) continue;
      found.push({ pid: Number(pid), home: env.find((e) => e.startsWith('KEEL_HOME='))?.slice(10) ?? '?' });
    } catch { /* gone, or not ours to read */ }
  }
  return found;
}

let leaked = [];
if (process.platform === 'linux') {
  // A daemon told to stop may take a moment to exit; only one still there after that is a leak.
  for (let i = 0; i < 50 && (leaked = leakedDaemons()).length > 0; i++) spawnSync('sleep', ['0.1']);
  for (const d of leaked) {
    process.stderr.write(`leaked Keel daemon: pid ${d.pid}, KEEL_HOME ${d.home} — a test left it running; killed\n`);
    try { process.kill(d.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}
process.exit(leaked.length > 0 ? 1 : (res.status ?? 1));
