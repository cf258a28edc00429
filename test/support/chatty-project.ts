/**
 * A project whose "trainer" is chatty: a real python3 loop that prints `rate` numbered lines a
 * second for `seconds`, in batches every 10 ms (a fast tokenizer's or a verbose trainer's
 * output). For backpressure and log tests, launched on the local backend.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CHATTY_PY = `
import json, sys, time
cfg = json.load(open(sys.argv[sys.argv.index('--config') + 1]))
rate, secs, extra = cfg['rate'], cfg['seconds'], cfg.get('extra', '')
n = 0
start = time.time()
while time.time() - start < secs:
    lines = []
    for i in range(max(1, rate // 100)):
        n += 1
        lines.append('line %09d the quick brown fox jumps over the lazy dog %s' % (n, extra))
    sys.stdout.write('\\n'.join(lines) + '\\n')
    sys.stdout.flush()
    time.sleep(0.01)
print('done after %d lines' % n, flush=True)
`;

/** Writes the project at `root` (a git repo) with one config per entry of `configs`. */
export function writeChattyProject(root: string, configs: Record<string, { rate: number; seconds: number; extra?: string }>): void {
  mkdirSync(join(root, 'configs'), { recursive: true });
  writeFileSync(join(root, 'chatty.py'), CHATTY_PY);
  for (const [name, cfg] of Object.entries(configs)) writeFileSync(join(root, 'configs', `${name}.json`), JSON.stringify(cfg));
  writeFileSync(join(root, 'keel.yaml'), [
    'name: chatty', 'configs: [configs/*.json]', 'outputs: [outputs/*]',
    'train:', '  command: python3 chatty.py --config {config} --out {output_dir}', '',
  ].join('\n'));
  const git = (...a: string[]): void => { execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=T', ...a], { cwd: root, stdio: 'ignore' }); };
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'chatty project');
}

/** The job's own log file on the local backend (the source of truth for its output). */
export function localJobLog(keelHome: string, runId: string, attempt = 1): string {
  return join(keelHome, 'local', 'jobs', runId, String(attempt), 'logs', 'output.log');
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}
