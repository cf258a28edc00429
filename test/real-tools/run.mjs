// `npm run test:real-tools`: the real-tools suite (test/real-tools/*.real.ts) with node:test,
// against the built CLI and daemon, with the venv of setup-venv.sh. Like scripts/test.mjs it
// fails the run when a daemon a test started is left running. Without the venv it fails with
// the command that installs it: this suite is never skipped.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const venv = process.env.KEEL_REAL_TOOLS_VENV ?? '/opt/keel-ci/real-tools-venv';
if (!existsSync(join(venv, 'bin', 'python'))) {
  process.stderr.write(`test:real-tools: no venv with the real ML tools at ${venv}. Run \`bash test/real-tools/setup-venv.sh\` first (KEEL_REAL_TOOLS_VENV picks another place).\n`);
  process.exit(1);
}
const files = readdirSync(here).filter((n) => n.endsWith('.real.ts')).sort().map((n) => join(here, n));
const runId = randomUUID();
const started = Date.now();
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=1800000', ...files], {
  stdio: 'inherit', env: { ...process.env, KEEL_TEST_RUN: runId, KEEL_REAL_TOOLS_VENV: venv },
});
process.stdout.write(`\nreal-tools suite: ${Math.round((Date.now() - started) / 1000)} s\n`);

const leaked = [];
for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('keel-daemon')) continue;
    if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`KEEL_TEST_RUN=${runId}`)) continue;
    leaked.push(Number(pid));
    process.kill(Number(pid), 'SIGKILL');
  } catch { /* gone, or not ours */ }
}
if (leaked.length > 0) {
  process.stderr.write(`test:real-tools: a test left Keel daemons running (pids ${leaked.join(', ')}); killed them.\n`);
  process.exit(1);
}
process.exit(res.status ?? 1);
