// Runs every *.test.ts under daemon/, extension/, webview/ and test/ with node:test.
// Node >= 22.18 strips TypeScript types natively, so tests run against the sources.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...selected.sort()], { stdio: 'inherit' });
process.exit(res.status ?? 1);
