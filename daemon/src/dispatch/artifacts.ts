/**
 * Checkpoints of a remote job stay on the host (they are big). They are hashed there and
 * registered as `host:path`, with the same manifest hash a local checkpoint would get.
 * A folder is hashed once it is complete (HF `checkpoint-N/` has its trainer_state.json,
 * others have weights and no file changed since the previous look) and only once: the
 * host keeps `<jobdir>/artifacts/<name>.manifest` keyed by the folder's listing.
 */
import { posix } from 'node:path';
import type { Checkpoint } from '../protocol/index.ts';
import { EdgeTypes, type Store } from '../store/index.ts';
import { manifestHash } from '../track/hash/index.ts';
import type { HostConnection } from './transport/connection.ts';

const ARTIFACTS_SH = `
set -u
umask 077
out=$1; art=$2; final=\${3:-0}
mkdir -p "$art"
[ -d "$out" ] || { echo KEEL_END; exit 0; }
for d in "$out" "$out"/*/ "$out"/*/adapter_model/; do
  d=\${d%/}; [ -d "$d" ] || continue
  case $(basename "$d") in .*|runs|logs|lm_eval) continue;; esac
  ls "$d" 2>/dev/null | grep -Eq '(\\.safetensors|\\.bin|\\.pt|\\.pth|\\.gguf|adapter_config\\.json)$' || continue
  ls "$d" | grep -Eqv '^training_args\\.bin$' || continue
  hf=0
  case $(basename "$d") in checkpoint-*|last-checkpoint) [ -f "$d/trainer_state.json" ] || continue; hf=1;; esac
  listing=$(cd "$d" && find . -maxdepth 1 -type f ! -name '.*' -printf '%P\\t%s\\t%T@\\n' | LC_ALL=C sort)
  key=$(printf '%s' "$listing" | sha256sum | cut -c1-16)
  name=$(printf '%s' "\${d#"$out"}" | tr '/' '_'); [ -n "$name" ] || name=_root
  m="$art/$name.manifest"
  if [ ! -f "$m" ] || [ "$(head -n1 "$m")" != "$key" ]; then
    prev="$art/$name.listing"
    # HF writes trainer_state.json last, so its checkpoints are complete at first sight;
    # other folders must look the same twice, unless the job has ended.
    if [ "$hf" = 1 ] || [ "$final" = 1 ] || { [ -f "$prev" ] && [ "$(cat "$prev")" = "$key" ]; }; then
      { echo "$key"; (cd "$d" && find . -maxdepth 1 -type f ! -name '.*' -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum | while read -r h f; do printf '%s\\t%s\\t%s\\n' "$h" "$(stat -c %s "$f")" "$f"; done); } > "$m.tmp" && mv "$m.tmp" "$m"
    else
      echo "$key" > "$prev"; continue
    fi
  fi
  echo "KEEL_CKPT $d"
  tail -n +2 "$m" | sed 's/^/KEEL_FILE /'
done
echo KEEL_END
`;

export interface RemoteCheckpoint {
  path: string;
  files: { path: string; size: number; hash: string }[];
}

export function parseArtifacts(stdout: string): { checkpoints: RemoteCheckpoint[]; complete: boolean } {
  const checkpoints: RemoteCheckpoint[] = [];
  let complete = false;
  for (const line of stdout.split('\n')) {
    if (line === 'KEEL_END') complete = true;
    else if (line.startsWith('KEEL_CKPT ')) checkpoints.push({ path: line.slice(10), files: [] });
    else if (line.startsWith('KEEL_FILE ')) {
      const [hex, size, path] = line.slice(10).split('\t');
      const cur = checkpoints.at(-1);
      if (cur && hex && size && path) cur.files.push({ path, size: Number(size), hash: `sha256:${hex}` });
    }
  }
  return { checkpoints, complete };
}

function stepOf(dir: string): number | null {
  const m = /(?:checkpoint|epoch)[-_](\d+)$/.exec(posix.basename(dir.replace(/\/adapter_model$/, '')));
  return m ? Number(m[1]) : null;
}

/** Hashes complete checkpoint folders on the host and registers new ones. Returns how many were new. */
export async function registerRemoteCheckpoints(
  store: Store, conn: HostConnection, run: { id: string; hostId: string | null }, jobDir: string, finalStep: number | null, final: boolean,
): Promise<Checkpoint[]> {
  const r = await conn.exec(['bash', '-c', ARTIFACTS_SH, 'keel-artifacts', `${jobDir}/outputs`, `${jobDir}/artifacts`, final ? '1' : '0'], { timeoutMs: 30 * 60_000 });
  const { checkpoints, complete } = parseArtifacts(r.stdout);
  if (!complete) return [];
  const added: Checkpoint[] = [];
  for (const c of checkpoints) {
    if (c.files.length === 0) continue;
    const names = c.files.map((f) => f.path);
    const adapter = names.some((n) => /^adapter_(model|config)\./.test(n)) || c.path.endsWith('/adapter_model');
    const location = `${conn.hostName}:${c.path}`;
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
