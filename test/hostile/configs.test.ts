/**
 * Configs that must not knock the daemon over, through the real daemon and CLI: a 50 MB file,
 * a 3.7 MiB YAML that needs gigabytes to parse, an interpolation bomb, an alias bomb and
 * 100,000 nested brackets. The daemon keeps answering within 100 ms (p99) while it reads
 * them, records none it cannot read (with a warning event naming the file), records the bomb
 * with its strings left as written, and refuses to launch any of the others with the reason.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { KeelClient } from '../../daemon/src/client/client.ts';
import type { KeelEvent } from '../../daemon/src/protocol/index.ts';
import { TestHome } from '../support/keel-home.ts';
import { connectClient, percentile, statusLatencies } from '../support/latency.ts';

/** 1.4 KB: each `s` line doubles a string, each `o` line doubles a tree (2^40 × 8 values if expanded). */
function interpolationBomb(): string {
  const strings = ['s0: "0123456789"'];
  const trees = ['o0: [1, 2, 3, 4, 5, 6, 7, 8]'];
  for (let i = 1; i <= 40; i++) {
    strings.push(`s${i}: "\${s${i - 1}}\${s${i - 1}}"`);
    trees.push(`o${i}: ["\${o${i - 1}}", "\${o${i - 1}}"]`);
  }
  return [...strings, ...trees].join('\n') + '\n';
}

/** Billion laughs: every level refers to the one before ten times. */
function aliasBomb(): string {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}

describe('configs that must not knock the daemon over', () => {
  const h = new TestHome('keel-config-limits-');
  const root = join(h.dir, 'proj');
  const configs = join(root, 'configs');
  let client: KeelClient;

  // Asked over the open connection: a CLI process started with spawnSync would stall this
  // test's own event loop and show up as daemon latency.
  const notRecorded = async (file: string): Promise<KeelEvent | undefined> =>
    (await client.call('events/list', {})).events.find((e) => e.kind === 'config_not_recorded' && e.message.includes(file));
  const recordedPaths = (): string[] => {
    const db = new Database(h.db, { readonly: true });
    try {
      return (db.prepare('SELECT abs_path FROM config_paths').pluck().all() as string[]);
    } finally {
      db.close();
    }
  };

  before(async () => {
    mkdirSync(configs, { recursive: true });
    writeFileSync(join(root, 'keel.yaml'), 'name: limits\nconfigs: [configs/*.yml, configs/*.json]\ntrain:\n  command: "true {config}"\n');
    h.keelJson(['init', root]);
    client = await connectClient(h.socket);
  });

  after(() => {
    client.close();
    assert.equal(h.integrity(), 'ok');
    h.cleanup();
  });

  it('answers status within 100 ms (p99) while it reads a 50 MB config and a 3.7 MiB one that needs gigabytes, records neither, and names each in a warning', async (t) => {
    const huge = join(configs, 'huge.yml');
    const heavy = join(configs, 'heavy.yml');
    writeFileSync(huge, `learning_rate: 1.0e-4\n${`# ${'x'.repeat(98)}\n`.repeat(500_000)}`);
    writeFileSync(heavy, `values: [${Array.from({ length: 1_300_000 }, () => '1').join(', ')}]\n`);
    const lat = await statusLatencies(client, async () => (await notRecorded('huge.yml')) !== undefined && (await notRecorded('heavy.yml')) !== undefined, {
      timeoutMs: 180_000, checkEvery: 25, minSamples: 200, what: 'warnings about huge.yml and heavy.yml',
    });
    const p99 = percentile(lat, 99);
    t.diagnostic(`status while reading the configs: p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...lat).toFixed(0)} ms over ${lat.length} calls`);
    assert.ok(lat.length >= 200, `${lat.length} samples`);
    assert.ok(p99 < 100, `status p99 ${p99.toFixed(1)} ms over ${lat.length} calls (max ${Math.max(...lat).toFixed(0)} ms)`);
    assert.match((await notRecorded('huge.yml'))?.message ?? '', /huge\.yml is \d+(\.\d)? MiB, over Keel's 4 MiB limit for a training config/);
    assert.match((await notRecorded('heavy.yml'))?.message ?? '', /heavy\.yml (needed more than 512 MiB of memory|ran \d+(\.\d)? s, over Keel's limit)/);
    assert.equal((await notRecorded('heavy.yml'))?.severity, 'warning');
    assert.deepEqual(recordedPaths().filter((p) => p === huge || p === heavy), []);
  });

  it('records a 1.4 KB interpolation bomb with the strings that would grow too large left as written, and at most 10,000 params', async () => {
    const bomb = join(configs, 'bomb.yml');
    writeFileSync(bomb, interpolationBomb());
    await statusLatencies(client, () => recordedPaths().includes(bomb), { timeoutMs: 60_000, what: 'bomb.yml to be recorded' });
    const db = new Database(h.db, { readonly: true });
    try {
      const id = db.prepare('SELECT config_id FROM config_paths WHERE abs_path = ?').pluck().get(bomb) as string;
      const { n, bytes } = db.prepare('SELECT count(*) AS n, sum(length(value_json)) AS bytes FROM config_params WHERE config_id = ?').get(id) as { n: number; bytes: number };
      assert.equal(n, 10_000);
      assert.ok(bytes < 1024 * 1024, `${bytes} bytes of params`);
      const s40 = db.prepare("SELECT value_json FROM config_params WHERE config_id = ? AND key = 's40'").pluck().get(id);
      assert.equal(s40, JSON.stringify('${s39}${s39}'), 'a string that would be 10 TB stays as written');
      const s12 = db.prepare("SELECT value_json FROM config_params WHERE config_id = ? AND key = 's12'").pluck().get(id) as string;
      assert.equal((JSON.parse(s12) as string).length, 10 * 2 ** 12, 'strings under the 64 KiB cap are resolved');
    } finally {
      db.close();
    }
  });

  it('refuses to launch a config over a limit, saying which file and which limit, and records no run', () => {
    writeFileSync(join(configs, 'aliases.yml'), aliasBomb());
    writeFileSync(join(configs, 'deep.json'), `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const cases: [string, RegExp][] = [
      ['huge.yml', /huge\.yml is \d+(\.\d)? MiB, over Keel's 4 MiB limit/],
      ['heavy.yml', /heavy\.yml (needed more than 512 MiB of memory|ran \d+(\.\d)? s, over Keel's limit)/],
      ['aliases.yml', /aliases\.yml:1:1: the YAML's aliases \(\*name\) would expand it more than 100 times over/],
      ['deep.json', /deep\.json:1:1: the config is nested more than 256 levels deep/],
    ];
    for (const [file, reason] of cases) {
      const r = h.keel(['launch', join('configs', file), '--local'], { cwd: root, timeoutMs: 120_000 });
      assert.equal(r.code, 1, `${file}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, reason);
    }
    assert.deepEqual(h.keelJson<{ runs: unknown[] }>(['runs']).runs, []);
  });
});
