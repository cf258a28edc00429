/** `keel lineage`, `keel datasets`, `keel dataset show`, `keel tag`, `keel models`. */
import type { LineageGraph, LineageNode } from '../../protocol/index.ts';
import { ago, keyValues, print, printJson, table, visibleInline } from '../output.ts';
import { withDaemon } from '../session.ts';
import { stringOption, UsageError, type CommandContext } from '../command.ts';

const kindLabel: Record<string, string> = {
  dataset_version: 'dataset', config: 'config', code_version: 'code', run: 'run', checkpoint: 'checkpoint', eval: 'eval', model: 'model',
};

function nodeLine(n: LineageNode): string {
  const facts = Object.entries(n.details)
    .filter(([k, v]) => v !== null && v !== '' && v !== undefined && v !== false && !HISTORY_KEYS.has(k))
    .slice(0, 4)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return visibleInline(`${kindLabel[n.kind] ?? n.kind} ${n.label}${historyNote(n)}  [${n.id}]${facts ? `  ${facts}` : ''}`);
}

/** Details said in words by {@link historyNote} instead of as `key=value`. */
const HISTORY_KEYS = new Set(['deletedAt', 'evalJobFailed']);

/** " (deleted from disk 3 min ago)" for a checkpoint kept as history; " (its eval job failed)" for such results. */
function historyNote(n: LineageNode): string {
  const deleted = n.details.deletedAt;
  if (typeof deleted === 'number') return ` (deleted from disk ${ago(deleted)})`;
  return n.details.evalJobFailed === true ? ' (its eval job failed)' : '';
}

/** Prints the graph as two trees (depth-first along the edges), each record once. */
function printGraph(g: LineageGraph): void {
  print(`${nodeLine(g.root)}\n`);
  const nodes = new Map([...g.ancestors, ...g.descendants, g.root].map((n) => [`${n.kind}:${n.id}`, n]));
  const tree = (title: string, up: boolean): void => {
    print(`\n${title}\n`);
    const seen = new Set<string>([`${g.root.kind}:${g.root.id}`]);
    let printed = 0;
    const visit = (key: string, depth: number): void => {
      const next = g.edges
        .filter((e) => (up ? `${e.toKind}:${e.toId}` : `${e.fromKind}:${e.fromId}`) === key)
        .map((e) => (up ? `${e.fromKind}:${e.fromId}` : `${e.toKind}:${e.toId}`));
      for (const k of next) {
        const n = nodes.get(k);
        if (!n || seen.has(k)) continue;
        seen.add(k);
        printed++;
        print(`${'  '.repeat(depth)}${up ? '←' : '→'} ${nodeLine(n)}\n`);
        visit(k, depth + 1);
      }
    };
    visit(`${g.root.kind}:${g.root.id}`, 1);
    if (printed === 0) print('  (nothing recorded)\n');
  };
  tree('Came from', true);
  tree('Came of it', false);
  if (g.truncated) print('\n(truncated: use --depth to see further)\n');
}

export async function lineageCommand(ctx: CommandContext): Promise<number> {
  const ref = ctx.positionals[0];
  if (!ref) throw new UsageError('usage: keel lineage PATH|ID [--depth N]');
  const depthOpt = stringOption(ctx, 'depth');
  return withDaemon(async (client) => {
    const g = await client.call('lineage/get', { ref, cwd: ctx.cwd, ...(depthOpt ? { depth: Number(depthOpt) } : {}) });
    if (ctx.json) printJson(g);
    else printGraph(g);
    return 0;
  });
}

export async function datasetsCommand(ctx: CommandContext): Promise<number> {
  return withDaemon(async (client) => {
    const { datasets } = await client.call('datasets/list', {});
    if (ctx.json) return (printJson({ datasets }), 0);
    if (datasets.length === 0) {
      print('No datasets yet. List them under `datasets:` in keel.yaml.\n');
      return 0;
    }
    print(table(datasets, [
      { header: 'DATASET', value: (d) => d.path },
      { header: 'KIND', value: (d) => d.kind },
      { header: 'VERSIONS', value: (d) => d.versions, align: 'right' },
      { header: 'LATEST', value: (d) => d.latestVersionId },
      { header: 'SINCE', value: (d) => ago(d.createdAt) },
    ]) + '\n');
    return 0;
  });
}

export async function datasetCommand(ctx: CommandContext): Promise<number> {
  const [sub, ref] = ctx.positionals;
  if (sub !== 'show' || !ref) throw new UsageError('usage: keel dataset show PATH');
  return withDaemon(async (client) => {
    const r = await client.call('datasets/show', { ref, cwd: ctx.cwd });
    if (ctx.json) return (printJson(r), 0);
    print(keyValues([['Dataset', r.dataset.path], ['Kind', r.dataset.kind], ['Versions', r.versions.length]]) + '\n\n');
    print(table(r.versions, [
      { header: 'VERSION', value: (v) => v.id },
      { header: 'HASH', value: (v) => v.hash.slice(0, 23) },
      { header: 'FILES', value: (v) => v.fileCount, align: 'right' },
      { header: 'BYTES', value: (v) => v.sizeBytes, align: 'right' },
      { header: 'SEEN', value: (v) => ago(v.createdAt) },
    ]) + '\n');
    const latest = r.versions[0];
    if (latest?.profile) {
      print(skippedText(latest.profile));
      print(`\nProfile of the latest version:\n${JSON.stringify(latest.profile, null, 2)}\n`);
    }
    return 0;
  });
}

/**
 * "The latest version left out 2 paths:" and one line per path with its reason, from the
 * profile's `skipped` summary (`{ count, paths }`; versions recorded before it was added
 * hold a plain list). The profile is `unknown` on the wire: fields are checked, not trusted.
 */
function skippedText(profile: unknown): string {
  const skipped = typeof profile === 'object' && profile !== null ? (profile as Record<string, unknown>).skipped : undefined;
  const paths: unknown[] = Array.isArray(skipped) ? skipped : isRecord(skipped) && Array.isArray(skipped.paths) ? skipped.paths : [];
  const count = isRecord(skipped) && typeof skipped.count === 'number' ? skipped.count : paths.length;
  if (count === 0) return '';
  const lines = paths.filter(isRecord).map((p) => `  ${String(p.path)}  ${String(p.reason)}\n`);
  const more = count > lines.length ? `  … and ${count - lines.length} more\n` : '';
  return `\nThe latest version left out ${count === 1 ? '1 path' : `${count} paths`} (runs on it train without them):\n${lines.join('')}${more}`;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export async function tagCommand(ctx: CommandContext): Promise<number> {
  const [checkpoint, alias] = ctx.positionals;
  if (!checkpoint || !alias) throw new UsageError('usage: keel tag CHECKPOINT ALIAS [--note TEXT]');
  const note = stringOption(ctx, 'note');
  return withDaemon(async (client) => {
    const r = await client.call('models/tag', { checkpoint, alias, cwd: ctx.cwd, ...(note ? { note } : {}) });
    if (ctx.json) return (printJson(r), 0);
    if (!r.changed) print(`${alias} already points at ${r.checkpoint.location}\n`);
    else print(`${alias} → ${r.checkpoint.location}${r.previous ? ` (was ${r.previous.location}; \`keel tag ${r.previous.id} ${alias}\` rolls back)` : ''}\n`);
    return 0;
  });
}

export async function modelsCommand(ctx: CommandContext): Promise<number> {
  return withDaemon(async (client) => {
    const { models, baseModels } = await client.call('models/list', {});
    if (ctx.json) return (printJson({ models, baseModels: baseModels ?? [] }), 0);
    if (baseModels?.length) {
      print('Base models\n' + table(baseModels, [
        { header: 'MODEL', value: (m) => m.id },
        { header: 'KIND', value: (m) => m.kind },
        { header: 'REF', value: (m) => (m.revision ? `${m.ref}@${m.revision}` : m.ref) },
        { header: 'HASH', value: (m) => m.hash?.slice(0, 19) },
        { header: 'SEEN AT', value: (m) => m.locations.length, align: 'right' },
      ]) + '\n\n');
    }
    if (models.length === 0) {
      print('No aliases yet. `keel tag CHECKPOINT prod` names one.\n');
      return 0;
    }
    print(table(models, [
      { header: 'ALIAS', value: (m) => m.alias },
      { header: 'CHECKPOINT', value: (m) => m.checkpoint?.location ?? '(deleted)' },
      { header: 'STEP', value: (m) => m.checkpoint?.step, align: 'right' },
      { header: 'TAGGED', value: (m) => ago(m.updatedAt) },
      { header: 'HISTORY', value: (m) => m.history.length, align: 'right' },
    ]) + '\n');
    return 0;
  });
}
