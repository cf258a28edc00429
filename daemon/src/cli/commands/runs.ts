/** `keel runs`, `keel run show`, `keel run delete`, `keel metrics`, `keel compare`, `keel import`, `keel evals`. */
import { resolve } from 'node:path';
import type { Checkpoint, EvalResult, FrozenCommandView, LaunchSpecView, MetricPoint, ResultOf, RunComparison, RunDetail, RunSummary, RunUsage, SeriesInfo, SummaryValue } from '../../protocol/index.ts';
import { plural, shellWord } from '../../protocol/format.ts';
import { ago, duration, keyValues, print, printJson, table, visibleInline } from '../output.ts';
import { withDaemon } from '../session.ts';
import { stringOption, UsageError, type CommandContext } from '../command.ts';

export function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : Number(v.toPrecision(digits)).toString();
}

function point(p: MetricPoint): string {
  return p.special ? (p.special === 'nan' ? 'NaN' : p.special === 'inf' ? 'Infinity' : '-Infinity') : num(p.value, 6);
}

/** The STATUS cell of `keel runs`: an incomplete run says why (e.g. "import interrupted; run `keel import DIR` again"). */
export function runStatusCell(r: Pick<RunSummary, 'status' | 'statusReason' | 'unreachableSince' | 'exitCode'>): string {
  return r.status + (r.unreachableSince ? ' (unreachable)' : '') + (r.exitCode !== null && r.status === 'failed' ? ` (exit ${r.exitCode})` : '') +
    (r.status === 'incomplete' && r.statusReason ? ` (${r.statusReason})` : '');
}

/** Runs `keel runs` shows unless --limit says otherwise. */
const DEFAULT_RUNS_PAGE = 200;

export async function runsCommand(ctx: CommandContext): Promise<number> {
  const rawLimit = stringOption(ctx, 'limit');
  const limit = rawLimit === undefined ? DEFAULT_RUNS_PAGE : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError('--limit must be an integer from 1 to 10000');
  return withDaemon(async (client) => {
    const project = stringOption(ctx, 'project');
    const after = stringOption(ctx, 'after');
    const { runs, nextCursor } = await client.call('runs/list', { ...(project ? { project } : {}), limit, ...(after ? { cursor: after } : {}) });
    if (ctx.json) return (printJson({ runs, nextCursor: nextCursor ?? null }), 0);
    if (runs.length === 0) {
      print('No runs yet. Launch one, or point `outputs:` in keel.yaml at your training output folders, or `keel import DIR`.\n');
      return 0;
    }
    print(table(runs, [
      { header: 'RUN', value: (r) => r.id },
      { header: 'NAME', value: (r) => r.name },
      { header: 'STATUS', value: runStatusCell },
      { header: 'HOST', value: (r) => r.hostName },
      { header: 'STEP', value: (r) => r.lastStep, align: 'right' },
      { header: 'LOSS', value: (r) => num(r.lastLoss), align: 'right' },
      { header: 'ALERTS', value: (r) => r.alerts || '', align: 'right' },
      { header: 'CREATED', value: (r) => ago(r.createdAt) },
    ]) + '\n');
    if (nextCursor) {
      const again = ['keel runs', ...(project ? [`--project ${shellWord(project)}`] : []), ...(rawLimit === undefined ? [] : [`--limit ${limit}`]), `--after ${nextCursor}`].join(' ');
      print(`(the newest ${runs.length}${after ? ' after the cursor' : ''}; more: \`${again}\`)\n`);
    }
    return 0;
  });
}

function printRun(d: RunDetail): void {
  const r = d.run;
  print(keyValues([
    ['Run', `${r.name} (${r.id})`],
    ['Status', `${r.status}${r.statusReason ? ` — ${r.statusReason}` : ''}${r.exitCode !== null ? `, exit ${r.exitCode}` : ''}`],
    ['Source', r.source],
    ['Host', r.hostName],
    ['Output', r.outputDir],
    ['Config', d.config ? `${d.config.paths[0] ?? ''} (${d.config.hash.slice(0, 19)}, ${d.config.flavor})` : null],
    ['Code', d.codeVersion ? `${d.codeVersion.commit?.slice(0, 10) ?? 'no commit'}${d.codeVersion.dirty ? ' + uncommitted changes' : ''}${d.codeVersion.branch ? ` on ${d.codeVersion.branch}` : ''}` : null],
    ['Data', d.datasets.map((v) => v.hash.slice(0, 19)).join(', ') || null],
    ['Created', `${new Date(r.createdAt).toISOString()} (${ago(r.createdAt)})`],
    ['Duration', r.startedAt ? duration((r.endedAt ?? Date.now()) - r.startedAt) : null],
    ['GPU time', d.usage ? `${d.usage.gpuHours.toFixed(d.usage.gpuHours < 1 ? 3 : 1)} GPU-hours over ${plural(d.usage.attempts, 'attempt')}${d.usage.slurmAccounted ? ` (${d.usage.slurmAccounted === d.usage.attempts ? '' : `${d.usage.slurmAccounted} `}from Slurm's accounting)` : ''}${d.usage.cost !== null ? `, cost ${d.usage.cost.toFixed(2)} (--cost-per-hour)` : ''}` : null],
  ]) + '\n');
  if (d.metrics.length) {
    print('\nMetrics\n' + seriesTable(d.metrics) + '\n');
    const total = d.metricsTotal ?? d.metrics.length;
    if (total > d.metrics.length) {
      print(`(${d.metrics.length} of ${total.toLocaleString('en-US')} metrics shown, losses and eval metrics first; ` +
        `${(total - d.metrics.length).toLocaleString('en-US')} not shown: list them with \`keel metrics ${r.id}\`, or by prefix with \`keel metrics ${r.id} --prefix eval_\`)\n`);
    }
  }
  if (d.summary?.length) print('\nSummary (end of run)\n' + summaryTable(d.summary) + '\n');
  if (d.checkpoints.length) {
    print('\nCheckpoints\n' + table(d.checkpoints, [
      { header: 'STEP', value: (c) => c.step, align: 'right' },
      { header: 'KIND', value: (c) => c.kind },
      { header: 'STATE', value: checkpointState },
      { header: 'SIZE', value: (c) => (c.sizeBytes === null ? null : `${(c.sizeBytes / 1e6).toFixed(1)} MB`), align: 'right' },
      { header: 'HASH', value: (c) => c.hash?.slice(0, 19) },
      { header: 'LOCATION', value: checkpointLocation },
    ]) + '\n');
  }
  if (d.evals.length) {
    const byId = new Map(d.checkpoints.map((c) => [c.id, c]));
    print('\nEvals\n' + table(d.evals, [
      { header: 'TASK', value: (e) => e.task },
      { header: 'METRIC', value: (e) => `${e.metric}${e.filter !== 'none' ? ` (${e.filter})` : ''}` },
      { header: 'VALUE', value: (e) => num(e.value), align: 'right' },
      { header: '± STDERR', value: (e) => (e.stderr === null ? 'n/a' : num(e.stderr)), align: 'right' },
      { header: 'OF', value: (e) => evalSubject(e, byId) },
      { header: 'JOB', value: evalJob },
    ]) + '\n');
  }
}

/** "present", "deleted 3 min ago" (history: seen gone from disk), plus "final model". */
export function checkpointState(c: Checkpoint): string {
  const state = c.deletedAt == null ? 'present' : `deleted ${ago(c.deletedAt)}`;
  return c.final ? `${state}, final model` : state;
}

/** The checkpoint's folder, and its other live location (the output folder's final copy). */
function checkpointLocation(c: Checkpoint): string {
  const also = (c.locations ?? []).filter((l) => l.deletedAt === null).map((l) => l.location);
  return also.length ? `${c.location} (also ${also.join(', ')})` : c.location;
}

/** What an eval measured: `step 60` for one of the run's checkpoints, else kind and id. */
function evalSubject(e: EvalResult, checkpoints: ReadonlyMap<string, Checkpoint>): string {
  const c = e.subjectId === null ? undefined : checkpoints.get(e.subjectId);
  if (c) return `step ${c.step ?? '?'}${c.deletedAt == null ? '' : ' (deleted)'}`;
  return `${e.subjectKind} ${e.subjectId ?? e.subjectRef ?? ''}`;
}

/** The mark after an eval value: its standing in the row (eval-verdicts.ts). */
const VERDICT_MARK: Readonly<Record<string, string>> = { best: ' *', tie: ' ~', ahead: ' +', none: '' };

/** Marks results whose eval job failed: they exist, but the job did not end well. */
function evalJob(e: EvalResult): string {
  return e.evalJobFailed === true ? 'failed job' : '';
}

/** The end-of-run values: key, value (NaN/Inf spelled out), step, the names files used. */
function summaryTable(values: readonly SummaryValue[]): string {
  return table(values, [
    { header: 'KEY', value: (v) => v.key },
    { header: 'VALUE', value: summaryCell, align: 'right' },
    { header: 'STEP', value: (v) => v.step, align: 'right' },
    { header: 'ALSO NAMED', value: (v) => v.aliases?.join(', ') ?? '' },
  ]);
}

function summaryCell(v: SummaryValue | null | undefined): string {
  if (!v) return '-';
  return v.special ? (v.special === 'nan' ? 'NaN' : v.special === 'inf' ? 'Infinity' : '-Infinity') : num(v.value, 6);
}

/** "Launch spec": what the run executes, frozen at launch (attempts, retries and reruns use exactly this). */
function launchSpecSection(s: LaunchSpecView): string {
  const cmd = (c: FrozenCommandView): string => `${c.command}${c.envNames.length ? ` (env: ${c.envNames.join(', ')})` : ''}`;
  const code = s.code.commit
    ? `${s.code.commit.slice(0, 10)}${s.code.patchHash ? ` + patch ${s.code.patchHash.slice(0, 19)}` : ''}`
    : 'no git commit';
  return '\nLaunch spec (frozen ' + new Date(s.frozenAt).toISOString() + ')\n' + keyValues([
    ['Command', cmd(s.job)],
    ['Setup', s.job.setup],
    ['Eval', s.eval ? cmd(s.eval) : null],
    ['Config', s.configPath ? `${s.configPath}${s.overrides.length ? ` with ${s.overrides.join(' ')}` : ''}${s.effectiveConfigHash ? ` (${s.effectiveConfigHash.slice(0, 19)})` : ''}` : null],
    ['Code', `${code}; snapshot ${s.code.snapshotHash.slice(0, 19)}, ${plural(s.code.files, 'file')}${s.code.rebuildable ? '' : ' (kept: not rebuildable from git)'}`],
    ['Data', s.datasets.map((d) => `${d.path} ${d.hash.slice(0, 19)}`).join(', ') || null],
    ['Placement', `${s.host ?? 'any host'}, ${plural(s.gpus, 'GPU')}`],
  ]) + '\n';
}

/** What `keel run delete` says: what went, that files stay, and whether the output folder is left untracked. */
export function deletionReport(r: ResultOf['runs/delete']): string {
  const x = r.removed;
  const parts = [
    `${plural(x.metricPoints, 'metric point')} in ${plural(x.metricSeries, 'series', 'series')}`,
    plural(x.checkpoints, 'checkpoint record'), plural(x.evals, 'eval result'), plural(x.params, 'param'),
    plural(x.lineageEdges, 'lineage edge'), plural(x.jobs, 'job'), plural(x.events, 'event'),
  ];
  const lines = [`Deleted run ${r.run.name} (${r.run.id}): ${parts.join(', ')}.`, 'Files on disk (checkpoints, logs, output folders) are untouched.'];
  if (x.childrenUnlinked > 0) lines.push(`${plural(x.childrenUnlinked, 'run')} that came from it ${x.childrenUnlinked === 1 ? 'stays' : 'stay'}, without a parent.`);
  if (r.untrackedOutput) lines.push(`Its output folder ${r.untrackedOutput} still exists; Keel will not track it again unless you \`keel import ${r.untrackedOutput}\`.`);
  return lines.join('\n') + '\n';
}

async function deleteRunCommand(ctx: CommandContext, ref: string): Promise<number> {
  return withDaemon(async (client) => {
    const r = await client.call('runs/delete', { run: ref, ...(ctx.options.force === true ? { force: true } : {}) }, { timeoutMs: 120_000 });
    if (ctx.json) printJson(r);
    else print(deletionReport(r));
    return 0;
  });
}

function seriesTable(series: SeriesInfo[]): string {
  return table(series, [
    { header: 'KEY', value: (m) => (m.aliases?.length ? `${m.key} (${m.aliases.join(', ')})` : m.key) },
    { header: 'POINTS', value: (m) => m.points, align: 'right' },
    { header: 'LAST STEP', value: (m) => m.lastStep, align: 'right' },
    { header: 'LAST', value: (m) => num(m.lastValue), align: 'right' },
    { header: 'MIN', value: (m) => num(m.min), align: 'right' },
    { header: 'MAX', value: (m) => num(m.max), align: 'right' },
  ]);
}

async function renameRunCommand(ctx: CommandContext, ref: string, name: string): Promise<number> {
  return withDaemon(async (client) => {
    const { run } = await client.call('runs/rename', { run: ref, name });
    if (ctx.json) printJson({ run });
    else print(`Renamed ${run.id} to "${run.name}".\n`);
    return 0;
  });
}

export async function runCommand(ctx: CommandContext): Promise<number> {
  const [sub, ref, name] = ctx.positionals;
  const usage = 'usage: keel run show RUN | keel run rename RUN NAME | keel run delete RUN [--force]';
  if (!['show', 'delete', 'rename'].includes(sub ?? '') || !ref) throw new UsageError(usage);
  if (sub === 'delete') return deleteRunCommand(ctx, ref);
  if (sub === 'rename') {
    if (!name) throw new UsageError(usage);
    return renameRunCommand(ctx, ref, name);
  }
  return withDaemon(async (client) => {
    const detail = await client.call('runs/get', { run: ref });
    const { spec } = await client.call('runs/spec', { run: ref });
    if (ctx.json) printJson({ ...detail, launchSpec: spec });
    else {
      printRun(detail);
      if (spec) print(launchSpecSection(spec));
    }
    return 0;
  });
}

/** Points `keel metrics RUN KEY` asks for unless --max-points says otherwise (the daemon answers at most 100,000). */
const DEFAULT_CLI_POINTS = 100_000;

export async function metricsCommand(ctx: CommandContext): Promise<number> {
  const [run, key] = ctx.positionals;
  if (!run) throw new UsageError('usage: keel metrics RUN [KEY] [--max-points N] [--prefix P] [--offset N] [--limit N]');
  if (key === undefined) return listMetrics(ctx, run);
  const maxPoints = stringOption(ctx, 'max-points');
  const n = maxPoints === undefined ? undefined : Number(maxPoints);
  if (n !== undefined && (!Number.isInteger(n) || n < 2)) throw new UsageError('--max-points must be an integer >= 2');
  return withDaemon(async (client) => {
    const r = await client.call('metrics/get', { run, key, maxPoints: Math.min(n ?? DEFAULT_CLI_POINTS, 1_000_000) });
    if (ctx.json) return (printJson(r), 0);
    print(table(r.points, [{ header: 'STEP', value: (p) => p.step, align: 'right' }, { header: key.toUpperCase(), value: point, align: 'right' }]) + '\n');
    if (r.downsampled) print(`(${r.points.length} of ${r.total} points: min and max per bucket)\n`);
    return 0;
  });
}

/** `keel metrics RUN`: the run's series by key, a page at a time. */
async function listMetrics(ctx: CommandContext, run: string): Promise<number> {
  const intOption = (name: string, min: number): number | undefined => {
    const raw = stringOption(ctx, name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
    return value;
  };
  const prefix = stringOption(ctx, 'prefix');
  const offset = intOption('offset', 0) ?? 0;
  const limit = Math.min(intOption('limit', 1) ?? 1_000, 5_000);
  return withDaemon(async (client) => {
    const r = await client.call('metrics/list', { run, offset, limit, ...(prefix ? { prefix } : {}) });
    if (ctx.json) return (printJson(r), 0);
    if (r.series.length > 0) print(seriesTable(r.series) + '\n');
    const end = r.offset + r.series.length;
    const which = prefix ? ` starting with "${prefix}"` : '';
    print(`(${r.series.length === 0 ? 'no' : `${r.offset + 1}–${end} of`} ${r.total.toLocaleString('en-US')} metrics${which}` +
      `${end < r.total ? `; next: \`keel metrics ${run}${prefix ? ` --prefix ${prefix}` : ''} --offset ${end}\`` : ''})\n`);
    return 0;
  });
}

function printComparison(c: RunComparison): void {
  const names = c.runs.map((r) => visibleInline(r.name));
  const w = (s: string): string => s;
  print(`Comparing ${c.runs.length} runs: ${names.join(', ')}\n`);
  const differ = c.params.differTotal ?? c.params.differ.length;
  print(`\nParams: ${differ} differ${differ > c.params.differ.length ? ` (first ${c.params.differ.length} shown)` : ''}, ${c.params.equal} equal\n`);
  if (c.params.differ.length) {
    print(table(c.params.differ, [
      { header: 'PARAM', value: (p) => p.key },
      ...c.runs.map((r) => ({ header: w(r.name), value: (p: RunComparison['params']['differ'][number]) => JSON.stringify(p.values[r.id] ?? null) })),
    ]) + '\n');
  }
  if (c.metrics.length) {
    const hidden = (c.metricsTotal ?? c.metrics.length) - c.metrics.length;
    print(`\nMetrics (last / best @ step)${hidden > 0 ? `: ${c.metrics.length} of ${c.metricsTotal}, losses and eval metrics first (\`keel metrics RUN\` lists the rest)` : ''}\n`);
    print(table(c.metrics, [
      { header: 'METRIC', value: (m) => `${m.key} (${m.goal})` },
      ...c.runs.map((r) => ({
        header: r.name,
        value: (m: RunComparison['metrics'][number]) => {
          const x = m.perRun[r.id];
          return x ? `${num(x.last)} / ${num(x.best)} @ ${x.bestStep ?? '-'}` : '-';
        },
      })),
    ]) + '\n');
  }
  if (c.summary?.length) {
    print('\nSummary (end of run)\n');
    print(table(c.summary, [
      { header: 'KEY', value: (row) => row.key },
      ...c.runs.map((r) => ({ header: r.name, value: (row: NonNullable<RunComparison['summary']>[number]) => summaryCell(row.perRun[r.id]), align: 'right' as const })),
    ]) + '\n');
  }
  if (c.usage && Object.values(c.usage).some((u) => u !== null)) {
    const u = c.usage;
    const rows = [
      { key: 'GPU-hours', cell: (x: RunUsage) => x.gpuHours.toFixed(x.gpuHours < 1 ? 3 : 1) },
      { key: 'cost (--cost-per-hour)', cell: (x: RunUsage) => (x.cost === null ? '-' : x.cost.toFixed(2)) },
    ];
    print('\nUsage\n' + table(rows, [
      { header: 'KEY', value: (row) => row.key },
      ...c.runs.map((r) => ({ header: r.name, value: (row: (typeof rows)[number]) => { const x = u[r.id]; return x ? row.cell(x) : '-'; }, align: 'right' as const })),
    ]) + '\n');
  }
  if (c.evals.length) {
    print('\nEvals (* best: ahead of every other run by more than the stderr of the difference; ~ tie: within it; + ahead: no stderr to tell; ! from an eval job that failed)\n');
    print(table(c.evals, [
      { header: 'TASK', value: (e) => `${e.task} ${e.metric}${e.filter !== 'none' ? `,${e.filter}` : ''}` },
      ...c.runs.map((r) => ({
        header: r.name,
        value: (e: RunComparison['evals'][number]) => {
          const x = e.perRun[r.id];
          if (!x) return '-';
          const of = x.subjectLabel ? ` (${x.subjectLabel})` : '';
          return `${num(x.value)}${x.stderr === null ? '' : ` ± ${num(x.stderr, 2)}`}${c.runs.length > 1 ? VERDICT_MARK[e.verdicts?.[r.id] ?? 'none'] : ''}${x.evalJobFailed ? ' !' : ''}${of}`;
        },
      })),
    ]) + '\n');
  }
}

export async function compareCommand(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length < 2) throw new UsageError('usage: keel compare RUN RUN [RUN…]');
  return withDaemon(async (client) => {
    const c = await client.call('runs/compare', { runs: ctx.positionals });
    if (ctx.json) printJson(c);
    else printComparison(c);
    return 0;
  });
}

export async function importCommand(ctx: CommandContext): Promise<number> {
  const dir = ctx.positionals[0];
  if (!dir) throw new UsageError('usage: keel import DIR [--name NAME] [--project P]');
  const project = stringOption(ctx, 'project');
  const name = stringOption(ctx, 'name');
  return withDaemon(async (client) => {
    const r = await client.call('runs/import', { dir: resolve(ctx.cwd, dir), ...(project ? { project } : {}), ...(name ? { name } : {}) }, { timeoutMs: 0 });
    if (ctx.json) return (printJson(r), 0);
    print(`${r.created ? 'Imported' : 'Updated'} run ${r.runId}: ${r.points} metric points, ${r.checkpoints} checkpoints, ${r.evals} eval results\n`);
    for (const i of r.issues) print(`warning: ${i}\n`);
    return 0;
  });
}

export async function evalsCommand(ctx: CommandContext): Promise<number> {
  const task = stringOption(ctx, 'task');
  const run = stringOption(ctx, 'run');
  return withDaemon(async (client) => {
    const { evals } = await client.call('evals/list', { ...(task ? { task } : {}), ...(run ? { run } : {}) });
    if (ctx.json) return (printJson({ evals }), 0);
    if (evals.length === 0) {
      print('No eval results yet. Point `evals:` in keel.yaml at lm-eval results files.\n');
      return 0;
    }
    print(table(evals, [
      { header: 'TASK', value: (e) => e.task },
      { header: 'METRIC', value: (e) => `${e.metric}${e.filter !== 'none' ? ` (${e.filter})` : ''}` },
      { header: 'VALUE', value: (e) => num(e.value), align: 'right' },
      { header: '± STDERR', value: (e) => (e.stderr === null ? 'n/a' : num(e.stderr)), align: 'right' },
      { header: 'SHOTS', value: (e) => e.nShot, align: 'right' },
      { header: 'OF', value: (e) => `${e.subjectKind} ${e.subjectId ?? e.subjectRef ?? ''}` },
      { header: 'JOB', value: evalJob },
    ]) + '\n');
    return 0;
  });
}
