/**
 * A tiny project whose "trainer" does what a test's config asks: log N steps of a loss to
 * stdout and metrics.jsonl, sleep, write a checkpoint, record its argv/env/GPU/timing to
 * info.json, and exit with a chosen code (`mutate`: also edit its own script and data in
 * place, as careless jobs do). Real python3, real processes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processesWith } from './job-host.ts';

export const JOB_PY = `
import json, os, sys, time
args = sys.argv[1:]
cfg_path = args[args.index('--config') + 1]
out = args[args.index('--out') + 1]
cfg = json.load(open(cfg_path))
os.makedirs(out, exist_ok=True)
info = {'argv': args, 'cuda': os.environ.get('CUDA_VISIBLE_DEVICES'), 'run': os.environ.get('KEEL_RUN_ID'),
        'outEnv': os.environ.get('KEEL_OUTPUT_DIR'), 'host': os.environ.get('KEEL_TEST_HOST', 'local'), 'slurmJob': os.environ.get('SLURM_JOB_ID'), 'arrayTask': os.environ.get('SLURM_ARRAY_TASK_ID'),
        'secret': os.environ.get('HF_TOKEN'), 'start': time.time(), 'cfg': cfg, 'cwd': os.getcwd(),
        'data': open('data/train.jsonl').read() if os.path.exists('data/train.jsonl') else None}
if cfg.get('mutate'):
    # What real jobs do to their tree: edit their own script in place (same inode), write a
    # cache next to the data, and append through the data file itself.
    src = open('job.py').read()
    with open('job.py', 'r+') as f:
        f.write('# edited in place by the job\\n' + src)
    open('data/tokenizer.cache', 'w').write('written next to the data')
    open('data/train.jsonl', 'a').write('{"text": "written through the data file"}\\n')
steps = int(cfg.get('steps', 5))
with open(os.path.join(out, 'metrics.jsonl'), 'a') as m:
    for s in range(1, steps + 1):
        print('step %d loss %.6f' % (s, 1.0 / s), flush=True)
        m.write(json.dumps({'step': s, 'loss': 1.0 / s}) + '\\n')
        m.flush()
        time.sleep(float(cfg.get('sleep', 0.02)))
if cfg.get('checkpoint'):
    ck = os.path.join(out, 'checkpoint-%d' % steps)
    os.makedirs(ck + '.tmp', exist_ok=True)
    open(os.path.join(ck + '.tmp', 'model.safetensors'), 'wb').write(b'\\x08' * 4096)
    json.dump({'global_step': steps, 'max_steps': steps, 'log_history': [{'step': steps, 'loss': 1.0 / steps}]}, open(os.path.join(ck + '.tmp', 'trainer_state.json'), 'w'))
    os.rename(ck + '.tmp', ck)
info['end'] = time.time()
json.dump(info, open(os.path.join(out, 'info.json'), 'w'))
print('done', flush=True)
sys.exit(int(cfg.get('exit', 0)))
`;

export function writeProbeProject(root: string, configs: Record<string, Record<string, unknown>>, opts: { env?: Record<string, string> } = {}): void {
  mkdirSync(join(root, 'configs'), { recursive: true });
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'job.py'), JOB_PY);
  writeFileSync(join(root, 'data', 'train.jsonl'), '{"text": "hello"}\n{"text": "world"}\n');
  for (const [name, cfg] of Object.entries(configs)) writeFileSync(join(root, 'configs', `${name}.json`), JSON.stringify(cfg, null, 2));
  const env = opts.env ? ['  env:', ...Object.entries(opts.env).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)] : [];
  writeFileSync(join(root, 'keel.yaml'), [
    'name: probe', 'datasets: [data/*.jsonl]', 'configs: [configs/*.json]', 'outputs: [outputs/*]',
    'train:', '  command: python3 job.py --config {config} --out {output_dir} --name {run}', ...env, '',
  ].join('\n'));
  const git = (...a: string[]): void => { execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=T', ...a], { cwd: root, stdio: 'ignore' }); };
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'probe project');
}

/** Processes of a probe job still alive on this machine: job.py, its command line naming the run id (not run.sh). */
export function probeJobProcesses(runId: string): number[] {
  return processesWith(runId).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('job.py');
    } catch {
      return false; // gone
    }
  });
}
