/**
 * Support for the real-tools suite: where the Python venv with the real ML tools lives
 * (setup-venv.sh installs it), a copy of the suite's project with a fresh tiny base model,
 * and readers of what the tools wrote, through the tools' own code where they have one
 * (TensorBoard's EventAccumulator).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The venv with torch, transformers, peft, trl, tensorboard and lm-eval (test/real-tools/setup-venv.sh). */
export const VENV = process.env.KEEL_REAL_TOOLS_VENV ?? '/opt/keel-ci/real-tools-venv';
export const PYTHON = join(VENV, 'bin', 'python');
const TEMPLATE = join(import.meta.dirname, 'project');

/** Throws with the next step when the venv is missing: this suite never passes without the real tools. */
export function requireVenv(): void {
  if (!existsSync(PYTHON)) {
    throw new Error(`no Python venv with the real ML tools at ${VENV}: run \`bash test/real-tools/setup-venv.sh\` (KEEL_REAL_TOOLS_VENV picks another place)`);
  }
}

/** Runs the venv's python in `cwd`; returns stdout. */
export function python(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(PYTHON, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * The suite's project at `root`: the template's scripts, configs and data, a tiny base model
 * made by `save_pretrained`, a keel.yaml whose commands use the venv, and a git commit.
 */
export function makeProject(root: string): void {
  cpSync(TEMPLATE, root, { recursive: true });
  python(root, ['make_base.py', 'base-models/tiny-llama'], { PYTHONWARNINGS: 'ignore' });
  writeKeelYaml(root, {});
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=Test', ...args], { cwd: root, encoding: 'utf8' });
  writeFileSync(join(root, '.gitignore'), 'outputs/\n__pycache__/\n');
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'real-tools project');
}

/** keel.yaml for the project; `minAcc` adds an eval gate no checkpoint of a 60-step run passes. */
export function writeKeelYaml(root: string, opts: { minAcc?: number }): void {
  const env = ['  env:', '    OMP_NUM_THREADS: "1"', '    TOKENIZERS_PARALLELISM: "false"', '    PYTHONWARNINGS: ignore'];
  writeFileSync(join(root, 'keel.yaml'), [
    'name: real-tools',
    'datasets:', '  - data/*.jsonl',
    'configs:', '  - configs/*.yaml',
    'outputs:', '  - outputs/*',
    'evals:', "  - 'outputs/**/results_*.json'",
    'train:', `  command: ${PYTHON} train.py --config {config} --output-dir {output_dir}`, ...env, '    RT_PAUSE_AFTER_SAVE: "2"',
    'eval:', `  command: ${PYTHON} evaluate.py --checkpoint {checkpoint} --out {output_dir}${opts.minAcc === undefined ? '' : ` --min-acc ${opts.minAcc}`}`, ...env,
    '',
  ].join('\n'));
}

/** One TensorBoard scalar as EventAccumulator loads it. */
export type TbPoint = [step: number, value: number, wallTime: number];

/** Every scalar under `dir`, read by TensorBoard's own EventAccumulator (project/dump_tb.py). */
export function tensorboardScalars(projectRoot: string, dir: string): Record<string, TbPoint[]> {
  return JSON.parse(python(projectRoot, ['dump_tb.py', dir], { PYTHONWARNINGS: 'ignore' })) as Record<string, TbPoint[]>;
}

/** `log_history` of a trainer_state.json (Python's NaN is not in these files: plain JSON). */
export function logHistory(file: string): Record<string, number>[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { log_history: Record<string, number>[] }).log_history;
}

/** The HF Trainer's TensorBoard name for a key it logs (transformers' `rewrite_logs`), written out here as the oracle. */
export function trainerTensorBoardName(key: string): string {
  if (key.startsWith('eval_')) return `eval/${key.slice('eval_'.length)}`;
  if (key.startsWith('test_')) return `test/${key.slice('test_'.length)}`;
  return `train/${key}`;
}

/** `checkpoint-N` folders on disk in an output folder, by step. */
export function checkpointFolders(outputDir: string): string[] {
  return readdirSync(outputDir).filter((n) => /^checkpoint-\d+$/.test(n)).sort((a, b) => Number(a.slice(11)) - Number(b.slice(11)));
}
