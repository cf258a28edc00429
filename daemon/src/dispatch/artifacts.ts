/**
 * Checkpoints of a remote job stay on the host (they are big). They are hashed there and
 * registered as `host:path`, with the same manifest hash a local checkpoint would get.
 * A folder is hashed once it is complete (HF `checkpoint-N/` has its trainer_state.json,
 * others have weights and no file changed since the previous look) and only once: the
 * host keeps `<jobdir>/artifacts/<name>.manifest` keyed by the folder's listing. Every scan
 * looks at the whole outputs folder (not at what changed since the last), so checkpoints
 * written while the daemon was stopped or the host unreachable are found at the next one.
 */
import { posix } from 'node:path';
import type { Checkpoint } from '../protocol/index.ts';
import { EdgeTypes } from '../store/index.ts';
import { manifestHash } from '../track/hash/index.ts';
import { parseArtifacts } from './remote/answers.ts';
import { runStep } from './host-step.ts';
import type { DispatchContext } from './context.ts';

export { parseArtifacts };

function stepOf(dir: string): number | null {
  const m = /(?:checkpoint|epoch)[-_](\d+)$/.exec(posix.basename(dir.replace(/\/adapter_model$/, '')));
  return m ? Number(m[1]) : null;
}

/**
 * Hashes complete checkpoint folders on the host and registers them. Returns the new ones.
 * A scan cut short registers nothing; when `final` (the job ended), it throws instead, so the
 * run is not settled with checkpoints missing: the next look scans again.
 */
export async function registerRemoteCheckpoints(
  ctx: DispatchContext, host: string, run: { id: string; hostId: string | null }, jobDir: string, finalStep: number | null, final: boolean,
): Promise<Checkpoint[]> {
  const { store } = ctx;
  const r = await runStep(ctx, host, 'artifacts.sh', [`${jobDir}/outputs`, `${jobDir}/artifacts`, final ? '1' : '0'], { timeoutMs: ctx.timeouts.checkpointHashMs, what: 'hashing checkpoints' });
  const { checkpoints, complete } = parseArtifacts(r.stdout);
  if (!complete) {
    if (final) throw new Error(`the checkpoint scan of ${jobDir} on ${host} was cut short (exit ${r.code}); it is done again before the run is settled`);
    return [];
  }
  const added: Checkpoint[] = [];
  for (const c of checkpoints) {
    if (c.files.length === 0) continue;
    const names = c.files.map((f) => f.path);
    const adapter = names.some((n) => /^adapter_(model|config)\./.test(n)) || c.path.endsWith('/adapter_model');
    const location = `${host}:${c.path}`;
    const step = stepOf(c.path) ?? (c.path === `${jobDir}/outputs` ? finalStep : null);
    const { checkpoint, created } = store.checkpoints.upsert({
      location, kind: adapter ? 'adapter' : 'full', runId: run.id, step, hostId: run.hostId,
      hash: manifestHash(c.files), sizeBytes: c.files.reduce((a, f) => a + f.size, 0), manifest: c.files,
    });
    store.lineage.addEdge({ kind: 'run', id: run.id }, { kind: 'checkpoint', id: checkpoint.id }, EdgeTypes.Produced);
    if (created) added.push(checkpoint);
  }
  return added;
}
