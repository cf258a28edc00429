/**
 * What a lineage node is called on the graph: the words a person tells records apart by —
 * a run's name, `checkpoint-250` with the run that wrote it, an eval's task names — rather
 * than a path cut from the left or a results file's timestamp. Pure.
 */
import type { LineageEdge, LineageNode } from '../../daemon/src/protocol/domain.ts';

/** What labels need from the rest of the graph. */
export interface LabelContext {
  /** Run names by id (the graph's run nodes). */
  runNames: ReadonlyMap<string, string>;
  /** Runs that are eval jobs (a checkpoint → run `evaluated_by` edge). */
  evalJobs: ReadonlySet<string>;
}

/** The label context of a graph's nodes and edges. */
export function labelContext(nodes: readonly LineageNode[], edges: readonly LineageEdge[]): LabelContext {
  return {
    runNames: new Map(nodes.filter((n) => n.kind === 'run').map((n) => [n.id, n.label])),
    evalJobs: new Set(edges.filter((e) => e.type === 'evaluated_by' && e.toKind === 'run').map((e) => e.toId)),
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A path on this machine or a GPU host (`host:/path`), as opposed to a name like a hub id. */
const isPath = (s: string): boolean => s.startsWith('/') || /^[\w.-]+:\//.test(s) || /^[A-Za-z]:[\\/]/.test(s);
const lastSegment = (s: string): string => s.split(/[\\/]/).filter(Boolean).pop() ?? s;
/** Folder names training tools give a checkpoint (step- or epoch-numbered). */
const CHECKPOINT_FOLDER = /^(checkpoint|epoch|step|global_step|iter)[-_]?\d+$|^last-checkpoint$/i;

/** The node's name on the graph. */
export function nodeTitle(n: LineageNode): string {
  const d = n.details;
  if (n.kind === 'checkpoint') {
    if (!isPath(n.label)) return n.label;
    const base = lastSegment(n.label);
    if (CHECKPOINT_FOLDER.test(base)) return base;
    // A run's final weights live in its output folder ("outputs"): the folder name says nothing.
    return str(d.runId) ? 'final weights' : base;
  }
  if (n.kind === 'eval') return str(d.taskNames) ?? str(d.example)?.split(' ')[0] ?? n.label;
  if (n.kind === 'dataset_version' && isPath(n.label)) return n.label.split(/[\\/]/).filter(Boolean).slice(-2).join('/');
  if (n.kind === 'config' && isPath(n.label)) return lastSegment(n.label);
  return n.label;
}

/** `acc=0.9871428571428571` → `acc 0.9871`. */
const roundExample = (s: string): string => s.replace(/=(-?\d+\.\d{4})\d+/g, ' $1').replace(/=/g, ' ');
const shortHash = (h: string): string => h.replace(/^(\w+:)?(\w{8}).*$/, '$1$2');

/** The second line: what kind of record, and the fact that tells it apart. */
export function nodeCaption(n: LineageNode, ctx: LabelContext): string {
  const d = n.details;
  switch (n.kind) {
    case 'run':
      return [ctx.evalJobs.has(n.id) ? 'eval job' : 'run', str(d.status)].filter(Boolean).join(' · ');
    case 'checkpoint': {
      const run = str(d.runId) && ctx.runNames.get(d.runId as string);
      const step = num(d.step);
      if (!str(d.runId) && step === null) return 'base model';
      return [run ?? 'checkpoint', step === null ? null : `step ${step}`].filter(Boolean).join(' · ');
    }
    case 'eval': {
      const example = str(d.example);
      const results = num(d.results);
      const task = example?.split(' ')[0];
      const metric = example ? roundExample(example.slice((task?.length ?? 0) + 1)) : null;
      return ['eval', metric, results !== null && results > 1 ? `${results} results` : null].filter(Boolean).join(' · ');
    }
    case 'dataset_version':
      return ['dataset', str(d.hash) && shortHash(d.hash as string), d.latest === false ? 'older version' : null].filter(Boolean).join(' · ');
    case 'config':
      return ['config', str(d.hash) && shortHash(d.hash as string)].filter(Boolean).join(' · ');
    case 'code_version':
      return ['code', str(d.branch), d.dirty === true ? 'uncommitted changes' : null].filter(Boolean).join(' · ');
    default:
      return n.kind.replace('_', ' ');
  }
}

/**
 * `s` in at most `max` characters, cut in the middle (`demo-higher…-lr-x9`): run names and
 * paths differ at either end, so both ends stay.
 */
export function fitText(s: string, max: number): string {
  if (s.length <= max) return s;
  const keep = max - 1;
  const head = Math.ceil(keep / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - (keep - head))}`;
}
