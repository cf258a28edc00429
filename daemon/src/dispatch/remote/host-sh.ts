/**
 * Scripts that look at a host rather than one job: the host check, and the checkpoint scan
 * of a job's outputs. The bash is embedded in template literals: read `\${` as `${` and
 * `\\` as `\`.
 */
import { SAY_SH } from './sh-shared.ts';

/** The GPU query Keel runs; its output format is what `parseNvidiaSmi` reads. */
export const NVIDIA_SMI_QUERY = ['--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu', '--format=csv,noheader,nounits'];

/** `check.sh WORKDIR`: what `keel hosts check` reports. */
export const CHECK_SH = `#!/usr/bin/env bash
# Keel: check.sh WORKDIR — facts about this host, one per line, then KEEL_END (output
# without it was cut short, and records nothing):
#   KEEL_OS  KEEL_PYTHON (version | none)  KEEL_WORKDIR (WORKDIR with ~ expanded)
#   KEEL_DISK (free KiB under WORKDIR)  KEEL_BOOT_ID  KEEL_HAS rsync|flock
#   KEEL_GPU <nvidia-smi CSV line>… | KEEL_GPU_ERROR rc=N TEXT | KEEL_NO_NVIDIA_SMI

set -u
${SAY_SH}
workdir=\${1:?usage: check.sh WORKDIR}
say OS "$(uname -srm 2>/dev/null)"
if command -v python3 >/dev/null 2>&1; then say PYTHON "$(python3 --version 2>&1)"; else say PYTHON none; fi
# shellcheck disable=SC2088  # a literal ~ from the daemon, expanded here
case $workdir in "~"|"~/"*) workdir="$HOME\${workdir#"~"}";; esac
say WORKDIR "$workdir"
d=$workdir; while [ ! -d "$d" ] && [ "$d" != "/" ]; do d=$(dirname -- "$d"); done
say DISK "$(df -Pk -- "$d" 2>/dev/null | awk 'NR==2 {print $4}')"
say BOOT_ID "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
command -v rsync >/dev/null 2>&1 && say HAS rsync
command -v flock >/dev/null 2>&1 && say HAS flock
if command -v nvidia-smi >/dev/null 2>&1; then
  out=$(nvidia-smi ${NVIDIA_SMI_QUERY.join(' ')} 2>&1); rc=$?
  if [ $rc -eq 0 ]; then
    while IFS= read -r line; do [ -n "$line" ] && say GPU "$line"; done <<< "$out"
  else
    say GPU_ERROR "rc=$rc $(printf '%s' "$out" | head -c 300 | tr '\\n' ' ')"
  fi
else
  say NO_NVIDIA_SMI
fi
say END
`;

/** `artifacts.sh OUTPUTS ARTIFACTS FINAL`: hash complete checkpoint folders, once each. */
export const ARTIFACTS_SH = `#!/usr/bin/env bash
# Keel: artifacts.sh OUTPUTS ARTIFACTS FINAL(0|1) — find the checkpoint folders of a job's
# OUTPUTS and hash each complete one once. A checkpoint folder is OUTPUTS itself, a folder
# in it, a checkpoint-*/epoch_* folder one level deeper, or an adapter_model/ in any of
# those, holding weights (*.safetensors, *.bin but training_args.bin, *.pt, *.pth, *.gguf)
# or adapter_config.json. HF checkpoint-N/ and last-checkpoint/ are complete once their
# trainer_state.json exists (HF writes it last); other folders once they look the same twice
# (or FINAL=1: the job ended). Each folder's manifest (hash, size, name of each file) is
# kept in ARTIFACTS/<name>.manifest, keyed by its listing, so it is hashed only when it
# changed. Prints KEEL_CKPT PATH, then KEEL_FILE HEX<TAB>SIZE<TAB>NAME per file, for every
# complete folder; then KEEL_END. PATH and NAME are escaped (\\\\ \\n \\r).

set -u
umask 077
${SAY_SH}
out=\${1:?usage: artifacts.sh OUTPUTS ARTIFACTS FINAL}
art=\${2:?usage: artifacts.sh OUTPUTS ARTIFACTS FINAL}
final=\${3:-0}
mkdir -p -- "$art"
[ -d "$out" ] || { say END; exit 0; }

esc() {
  ESC=\${1//\\\\/\\\\\\\\}
  ESC=\${ESC//$'\\n'/\\\\n}
  ESC=\${ESC//$'\\r'/\\\\r}
}

has_weights() {
  local f
  for f in "$1"/*; do
    [ -f "$f" ] || continue
    case \${f##*/} in
      training_args.bin) ;;
      *.safetensors|*.bin|*.pt|*.pth|*.gguf|adapter_config.json) return 0 ;;
    esac
  done
  return 1
}

listing() { (cd -- "$1" && find . -maxdepth 1 -type f ! -name '.*' -printf '%P\\t%s\\t%T@\\n' | LC_ALL=C sort); }

# manifest DIR: "HEX<TAB>SIZE<TAB>NAME" per file, names escaped.
manifest() {
  local rec size name hex
  declare -A sizes=()
  while IFS= read -r -d '' rec; do size=\${rec%% *}; sizes[\${rec#* }]=$size; done \\
    < <(cd -- "$1" && find . -maxdepth 1 -type f ! -name '.*' -printf '%s %P\\0')
  while IFS= read -r -d '' rec; do
    hex=\${rec%%  *}; name=\${rec#*  }; name=\${name#./}
    esc "$name"
    printf '%s\\t%s\\t%s\\n' "$hex" "\${sizes[$name]:-0}" "$ESC"
  done < <(cd -- "$1" && find . -maxdepth 1 -type f ! -name '.*' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum -z --)
}

candidates() {
  local d
  printf '%s\\0' "$out"
  for d in "$out"/*/ "$out"/*/checkpoint-*/ "$out"/*/epoch_*/; do
    [ -d "$d" ] && printf '%s\\0' "\${d%/}"
  done
}

while IFS= read -r -d '' d; do
  extra=()
  if [ -d "$d/adapter_model" ]; then extra=("$d/adapter_model"); fi
  for c in "$d" "\${extra[@]}"; do
    case \${c##*/} in .*|runs|logs|lm_eval) continue ;; esac
    has_weights "$c" || continue
    hf=0
    case \${c##*/} in checkpoint-*|last-checkpoint) [ -f "$c/trainer_state.json" ] || continue; hf=1 ;; esac
    key=$(listing "$c" | sha256sum | cut -c1-16)
    name=\${c#"$out"}; name=\${name//\\//_}; [ -n "$name" ] || name=_root
    m=$art/$name.manifest
    if [ ! -f "$m" ] || [ "$(head -n1 -- "$m")" != "$key" ]; then
      prev=$art/$name.listing
      if [ "$hf" = 1 ] || [ "$final" = 1 ] || { [ -f "$prev" ] && [ "$(cat -- "$prev")" = "$key" ]; }; then
        { echo "$key"; manifest "$c"; } > "$m.tmp" && mv -f -- "$m.tmp" "$m"
      else
        echo "$key" > "$prev"; continue
      fi
    fi
    esc "$c"; say CKPT "$ESC"
    tail -n +2 -- "$m" | sed 's/^/KEEL_FILE /'
  done
done < <(candidates)
say END
`;
