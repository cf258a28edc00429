/**
 * `keel`: the command line. A thin client of the daemon protocol; every command takes
 * `--json` and starts the daemon when it is not running.
 */
import { parseArgs } from 'node:util';
import { KEEL_VERSION } from '../version.ts';
import { PROTOCOL_VERSION, RpcError } from '../protocol/index.ts';
import { UsageError, type CommandContext } from './command.ts';
import { printError } from './output.ts';

type Command = { run: (ctx: CommandContext) => Promise<number>; usage: string; options?: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> };
type Run = Command['run'];

// Each command's module is loaded when the command runs, so a start pays only for the one
// it runs (the bundle evaluates a module on its first import): `keel daemon` never loads the
// client, and no command loads what another needs (yaml, the lineage printers…).
const runsCommands = (): Promise<typeof import('./commands/runs.ts')> => import('./commands/runs.ts');
const dispatchCommands = (): Promise<typeof import('./commands/dispatch.ts')> => import('./commands/dispatch.ts');
const lineageCommands = (): Promise<typeof import('./commands/lineage.ts')> => import('./commands/lineage.ts');
const projectCommands = (): Promise<typeof import('./commands/projects.ts')> => import('./commands/projects.ts');
function lazy<M>(load: () => Promise<M>, pick: (m: M) => Run): Run {
  return async (ctx) => pick(await load())(ctx);
}

/** `keel daemon` runs the daemon (server/daemon.ts, its own bundle); `daemon start|stop` are client commands. */
const daemonCommand: Run = async (ctx) => {
  if (ctx.positionals[0] === undefined) {
    const { runDaemon } = await import('../server/daemon.ts');
    return runDaemon({ foreground: ctx.options.background !== true });
  }
  return (await import('./commands/daemon.ts')).daemonCommand(ctx);
};
const statusCommand = lazy(() => import('./commands/status.ts'), (m) => m.statusCommand);
const initCommand = lazy(projectCommands, (m) => m.initCommand);
const projectsCommand = lazy(projectCommands, (m) => m.projectsCommand);
const compareCommand = lazy(runsCommands, (m) => m.compareCommand);
const evalsCommand = lazy(runsCommands, (m) => m.evalsCommand);
const importCommand = lazy(runsCommands, (m) => m.importCommand);
const metricsCommand = lazy(runsCommands, (m) => m.metricsCommand);
const runCommand = lazy(runsCommands, (m) => m.runCommand);
const runsCommand = lazy(runsCommands, (m) => m.runsCommand);
const cancelCommand = lazy(dispatchCommands, (m) => m.cancelCommand);
const eventsCommand = lazy(dispatchCommands, (m) => m.eventsCommand);
const hostsCommand = lazy(dispatchCommands, (m) => m.hostsCommand);
const launchCommand = lazy(dispatchCommands, (m) => m.launchCommand);
const pullCommand = lazy(dispatchCommands, (m) => m.pullCommand);
const rerunCommand = lazy(dispatchCommands, (m) => m.rerunCommand);
const sweepCommand = lazy(dispatchCommands, (m) => m.sweepCommand);
const waitCommand = lazy(dispatchCommands, (m) => m.waitCommand);
const logsCommand = lazy(() => import('./commands/logs.ts'), (m) => m.logsCommand);
const datasetCommand = lazy(lineageCommands, (m) => m.datasetCommand);
const datasetsCommand = lazy(lineageCommands, (m) => m.datasetsCommand);
const lineageCommand = lazy(lineageCommands, (m) => m.lineageCommand);
const modelsCommand = lazy(lineageCommands, (m) => m.modelsCommand);
const tagCommand = lazy(lineageCommands, (m) => m.tagCommand);

const launchOptions: Command['options'] = {
  host: { type: 'string' }, local: { type: 'boolean' }, gpus: { type: 'string' }, set: { type: 'string', multiple: true },
  name: { type: 'string' }, retries: { type: 'string' }, priority: { type: 'boolean' },
  time: { type: 'string' }, partition: { type: 'string' }, cpus: { type: 'string' }, mem: { type: 'string' },
};

const commands: Record<string, Command> = {
  daemon: { run: daemonCommand, usage: 'daemon [start|stop]     run the daemon (foreground), start it in the background, or stop it', options: { background: { type: 'boolean' } } },
  status: { run: statusCommand, usage: 'status                  show the daemon and where its state lives' },
  init: { run: initCommand, usage: 'init [DIR] [--name N]   write a commented keel.yaml (if none) and register the project', options: { name: { type: 'string' } } },
  projects: { run: projectsCommand, usage: 'projects                list registered projects' },
  datasets: { run: datasetsCommand, usage: 'datasets                tracked datasets and their versions' },
  dataset: { run: datasetCommand, usage: 'dataset show PATH       a dataset\'s versions and data profile (rows, duplicates, PII…)' },
  runs: { run: runsCommand, usage: 'runs [--project P] [--limit N] [--after CURSOR]  runs, newest first, a page at a time', options: { project: { type: 'string' }, limit: { type: 'string' }, after: { type: 'string' } } },
  run: { run: runCommand, usage: 'run show RUN | run rename RUN NAME | run delete RUN [--force]  a run: config, code, data, metrics, checkpoints, evals; rename it; or delete its record (files stay)', options: { force: { type: 'boolean' } } },
  metrics: { run: metricsCommand, usage: 'metrics RUN [KEY] [--max-points N]  one metric series (downsampled min/max per bucket); without KEY, the run\'s metrics [--prefix P] [--offset N] [--limit N]', options: { 'max-points': { type: 'string' }, prefix: { type: 'string' }, offset: { type: 'string' }, limit: { type: 'string' } } },
  compare: { run: compareCommand, usage: 'compare RUN RUN [RUN…]  params that differ, metric summaries, eval table' },
  lineage: { run: lineageCommand, usage: 'lineage PATH|ID [--depth N]  where a file or record came from and what came of it', options: { depth: { type: 'string' } } },
  evals: { run: evalsCommand, usage: 'evals [--task T] [--run R]  eval results', options: { task: { type: 'string' }, run: { type: 'string' } } },
  import: { run: importCommand, usage: 'import DIR [--name N]   record a training output folder as a run', options: { name: { type: 'string' }, project: { type: 'string' } } },
  tag: { run: tagCommand, usage: 'tag CHECKPOINT ALIAS    point an alias (prod, candidate) at a checkpoint; re-tag to roll back', options: { note: { type: 'string' } } },
  models: { run: modelsCommand, usage: 'models                  aliases and their checkpoints' },
  hosts: { run: hostsCommand, usage: 'hosts [add NAME --ssh TARGET [--slurm [--partition P] [--account A] [--qos Q]] | check NAME | remove NAME]  GPU hosts and Slurm clusters', options: { ssh: { type: 'string' }, workdir: { type: 'string' }, 'cost-per-hour': { type: 'string' }, label: { type: 'string', multiple: true }, slurm: { type: 'boolean' }, partition: { type: 'string' }, account: { type: 'string' }, qos: { type: 'string' } } },
  launch: { run: launchCommand, usage: 'launch CONFIG [--host H | --local] [--gpus N] [--set k=v]… [--name N] [--retries N] [--time HH:MM:SS] [--partition P] [--cpus C] [--mem M] [--skip-preflight]  check, then start a fine-tune (--time… on Slurm hosts)', options: { ...launchOptions, 'skip-preflight': { type: 'boolean' } } },
  sweep: { run: sweepCommand, usage: 'sweep CONFIG --grid k=v1,v2 [--random N --range k=lo:hi] [--max-parallel M]  one run per point (one job array on a Slurm host)', options: { ...launchOptions, grid: { type: 'string', multiple: true }, random: { type: 'string' }, range: { type: 'string', multiple: true }, 'max-parallel': { type: 'string' } } },
  logs: { run: logsCommand, usage: 'logs RUN [-f]           a run\'s output (follow until it ends)', options: { follow: { type: 'boolean', short: 'f' } } },
  wait: { run: waitCommand, usage: 'wait RUN [--timeout S]  wait for a run; exit 0 succeeded, its exit code failed, 130 cancelled, 75 lost, 124 timeout', options: { timeout: { type: 'string' } } },
  cancel: { run: cancelCommand, usage: 'cancel RUN | --sweep ID  stop a run (TERM, then KILL after a grace period), or every run of a sweep (one scancel of its Slurm job array)', options: { sweep: { type: 'string' } } },
  rerun: { run: rerunCommand, usage: 'rerun RUN [--host H | --local]  run again exactly what RUN recorded at launch (command, code, data, config)', options: { host: { type: 'string' }, local: { type: 'boolean' } } },
  pull: { run: pullCommand, usage: 'pull RUN [--step N] [--dest DIR]  copy a checkpoint here (resumable)', options: { step: { type: 'string' }, dest: { type: 'string' } } },
  events: { run: eventsCommand, usage: 'events [--run R]        alerts and events', options: { run: { type: 'string' } } },
};

function help(): string {
  return [
    `keel ${KEEL_VERSION} — track, launch and compare LLM fine-tunes`,
    '',
    'Usage: keel <command> [options] [--json]',
    '',
    ...Object.values(commands).map((c) => `  keel ${c.usage}`),
    '',
    'Every command accepts --json for machine-readable output.',
    'State lives in $KEEL_HOME (default ~/.keel).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    if (argv.includes('--json')) process.stdout.write(JSON.stringify({ version: KEEL_VERSION, protocolVersion: PROTOCOL_VERSION }) + '\n');
    else process.stdout.write(`keel ${KEEL_VERSION} (protocol ${PROTOCOL_VERSION})\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}". Run \`keel --help\` for the list.`);
  const { values, positionals } = parseArgs({
    args: argv.slice(1),
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...(command.options ?? {}) },
  });
  if (values.help) {
    process.stdout.write(`Usage: keel ${command.usage}\n`);
    return 0;
  }
  return command.run({ positionals, options: values, json: values.json === true, cwd: process.cwd() });
}

function report(err: unknown, json: boolean): number {
  const e = err as { code?: string; message?: string; data?: unknown };
  const usage = err instanceof UsageError || (e.code ?? '').startsWith('ERR_PARSE_ARGS');
  const code = usage ? 2 : 1;
  const errorCode = usage ? 'E_USAGE' : e.code ?? 'E_INTERNAL';
  if (json) process.stdout.write(JSON.stringify({ error: { code: errorCode, message: e.message ?? String(err), data: err instanceof RpcError ? err.data : undefined } }) + '\n');
  printError(`keel: ${e.message ?? String(err)}\n`);
  return code;
}

/**
 * `keel runs | head -1`: the reader left, which is not an error of ours. Exit at once, quietly,
 * with 0 (like ripgrep; a stack trace or a failure status would blame keel for the reader
 * stopping). Not for the daemon, whose stdio may be closed pipes and which must live on.
 */
function exitQuietlyOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(0);
      throw err;
    });
  }
}

const argv = process.argv.slice(2);
const runsTheDaemon = argv[0] === 'daemon' && argv.slice(1).every((a) => a.startsWith('-'));
if (!runsTheDaemon) exitQuietlyOnClosedOutput();
main(argv).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.exitCode = report(err, argv.includes("--json"));
  },
);
