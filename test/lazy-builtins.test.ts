/**
 * The bundles load zlib, child_process, worker_threads, tls, https, fs/promises and
 * timers/promises on first use
 * (scripts/build.mjs, lazy-builtins): a daemon start does not pay for them. Their stand-ins
 * are plain functions, so no bundled code may subclass or `instanceof`-check one of their
 * classes. (That the stand-ins work — workers, git, jobs — the daemon tests show: every
 * import, snapshot and local job goes through them.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from './support/keel-home.ts';

const LAZY = ['zlib', 'child_process', 'worker_threads', 'tls', 'https', 'fs/promises', 'timers/promises'];
const bundles = ['keel.js', 'keel-cli.js', 'keel-daemon.js', 'keel-daemon-features.js', 'keel-worker.js'].map((f) => join(repoRoot, 'dist', f));

describe('built-ins loaded on first use', () => {
  it('loading the daemon bundle and its features loads none of them', () => {
    const script = `const before = new Set(process.moduleLoadList); require(${JSON.stringify(join(repoRoot, 'dist', 'keel-daemon.js'))});
require(${JSON.stringify(join(repoRoot, 'dist', 'keel-daemon-features.js'))});
process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m))));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const loaded = JSON.parse(r.stdout) as string[];
    assert.ok(loaded.includes('NativeModule net'), 'the list is the real one (the daemon needs net)');
    for (const name of LAZY) assert.ok(!loaded.includes(`NativeModule ${name}`), `${name} is loaded only on first use`);
  });

  it('no bundle extends or instanceof-checks a class of theirs', () => {
    const require = createRequire(import.meta.url);
    const classes = LAZY.flatMap((m) => {
      const mod = require(`node:${m}`) as Record<string, unknown>;
      return Object.keys(mod).filter((k) => /^[A-Z]/.test(k) && typeof mod[k] === 'function').map((k) => ({ module: m, name: k }));
    });
    assert.ok(classes.some((c) => c.name === 'Worker') && classes.some((c) => c.name === 'ChildProcess'));
    for (const file of bundles) {
      const text = readFileSync(file, 'utf8');
      for (const c of classes) {
        // `extends Worker`, `instanceof import_node_worker_threads.Worker`, `instanceof zlib.Deflate`…
        const re = new RegExp(`\\b(extends|instanceof)\\s+(?:[\\w$]*${c.module.replace('/', '_')}[\\w$]*\\.)?${c.name}\\b`);
        assert.doesNotMatch(text, re, `${file}: ${c.module}.${c.name} is a stand-in until first use`);
      }
    }
  });
});
