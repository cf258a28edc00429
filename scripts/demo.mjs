// `npm start`: the main job, end to end, with nothing but Node and python3.
// Starts the daemon, registers examples/tiny-finetune, launches its two configs on the
// local backend, waits for them and for the evals Keel runs after them, then prints the
// comparison and the lineage of the best checkpoint.
//
// The Node check comes first, before anything else runs: on Node < 22 the daemon's SQLite
// module crashes, and a newcomer would only see "the daemon exited" without the reason.
// (The imports below are Node built-ins every Node 18+ has, so they cannot fail first.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const MIN_NODE_MAJOR = 22;
if (!(Number(process.versions.node.split('.')[0]) >= MIN_NODE_MAJOR)) {
  process.stderr.write(
    `npm start needs Node.js ${MIN_NODE_MAJOR} or newer; this is Node ${process.versions.node} (${process.execPath}).\n` +
    `Install a current Node (https://nodejs.org, or \`nvm install ${MIN_NODE_MAJOR}\` then \`nvm use ${MIN_NODE_MAJOR}\`), then run \`npm run setup\` and \`npm start\` again.\n`,
  );
  process.exit(1);
}

const root = resolve(import.meta.dirname, '..');
const example = join(root, 'examples', 'tiny-finetune');
const keelBin = join(root, 'bin', 'keel.js');

function keel(args, { json = false, allowFail = false } = {}) {
  const r = spawnSync(process.execPath, [keelBin, ...args, ...(json ? ['--json'] : [])], { cwd: example, encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) {
    process.stderr.write(r.stderr || r.stdout);
    process.stderr.write(`\nkeel ${args.join(' ')} failed (exit ${r.status}).\n`);
    process.exit(1);
  }
  return json ? JSON.parse(r.stdout) : r.stdout;
}

const say = (text) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

if (!existsSync(join(root, 'dist', 'keel.js'))) {
  process.stderr.write('Keel is not built yet: run `npm run setup` first.\n');
  process.exit(1);
}
if (spawnSync('python3', ['--version']).status !== 0) {
  process.stderr.write('The example trainer needs python3 on PATH.\n');
  process.exit(1);
}

say('Daemon');
process.stdout.write(keel(['status']));

say(`Project ${example}`);
process.stdout.write(keel(['init', example]));

say('Launching two fine-tunes on the local backend');
const runs = ['configs/baseline.yaml', 'configs/higher-lr.yaml'].map((config) => {
  const { run } = keel(['launch', config, '--local', '--name', `demo-${config.replace(/^configs\/|\.yaml$/g, '')}-${Date.now().toString(36)}`], { json: true });
  process.stdout.write(`${config} → ${run.id} (${run.name})\n`);
  return run;
});

say('Waiting for them to finish');
for (const run of runs) {
  const r = spawnSync(process.execPath, [keelBin, 'wait', run.id, '--timeout', '300'], { cwd: example, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.status !== 0) {
    process.stdout.write(keel(['logs', run.id], { allowFail: true }).split('\n').slice(-20).join('\n'));
    process.exit(1);
  }
}

say('Waiting for the evals Keel runs on each best checkpoint');
const deadline = Date.now() + 300_000;
for (;;) {
  const { runs: all } = keel(['runs'], { json: true });
  const evals = runs.map((r) => all.find((x) => x.name === `${r.name}-eval`));
  if (evals.every((e) => e && ['succeeded', 'failed', 'cancelled', 'lost'].includes(e.status))) {
    for (const e of evals) process.stdout.write(`${e.name}: ${e.status}\n`);
    break;
  }
  if (Date.now() > deadline) {
    process.stderr.write('the evals did not finish within 5 minutes\n');
    process.exit(1);
  }
  spawnSync('sleep', ['1']);
}
// The eval results are ingested right after the eval job ends; give the daemon a moment.
spawnSync('sleep', ['2']);

say('Comparison');
process.stdout.write(keel(['compare', ...runs.map((r) => r.id)]));

const cmp = keel(['compare', ...runs.map((r) => r.id)], { json: true });
// The daemon's canonical key is the Trainer's TensorBoard name; an older daemon says eval_loss.
const evalLoss = cmp.metrics.find((m) => m.key === 'eval/loss') ?? cmp.metrics.find((m) => m.key === 'eval_loss');
if (!evalLoss) throw new Error('the comparison has no eval loss: the example runs did not log one (see `keel run show` of each)');
const bestRun = runs.reduce((best, r) => ((evalLoss?.perRun[r.id]?.best ?? Infinity) < (evalLoss?.perRun[best.id]?.best ?? Infinity) ? r : best), runs[0]);
const detail = keel(['run', 'show', bestRun.id], { json: true });
// The run's last checkpoint-N still on disk (the final weights in the output folder are its second location).
const bestCheckpoint = [...detail.checkpoints].filter((c) => c.deletedAt == null && /checkpoint-\d+$/.test(c.location)).sort((a, b) => b.step - a.step)[0];

say(`Lineage of the best checkpoint (${bestRun.name}, lowest ${evalLoss?.key ?? 'eval loss'})`);
process.stdout.write(keel(['lineage', bestCheckpoint.location]));

say('Next');
process.stdout.write([
  `keel runs                      # every run, live`,
  `keel run show ${bestRun.id}   # config, code, data, metrics, checkpoints, evals`,
  `keel metrics ${bestRun.id} train/loss --max-points 20`,
  `keel tag ${bestCheckpoint.location} candidate`,
  '',
].join('\n'));
