/**
 * GPU leases on a host. A GPU is leased by an flock on `<lock dir>/<GPU UUID>.lock`, held by
 * a job's wrapper and inherited by the job's processes, so the kernel frees it when the last
 * of them exits (a crashed daemon changes nothing). The lock dir is machine-wide — by default
 * /tmp/keel-gpu-locks, sticky and world-writable like /tmp itself — so every user of the box
 * excludes every other; lock files are world-readable and locked through a read-only
 * descriptor, which any user may take on a file another user created. UUIDs, not nvidia-smi
 * indices: an index is an order, not an identity. The bash is embedded in template
 * literals: read `\${` as `${` and `\\` as `\`.
 */

/** The lock dir every user's jobs share unless KEEL_GPU_LOCK_DIR says otherwise. */
export const DEFAULT_GPU_LOCK_DIR = '/tmp/keel-gpu-locks';

/** gpu_lock_file: where a GPU's lock lives, made safe to open (pasted into run.sh and leases.sh). */
export const GPU_LOCK_SH = `# ---- shared: GPU lock files (same text in run.sh and leases.sh) ----

# gpu_lock_file DIR GPU: sets LOCK_FILE to DIR/GPU.lock, creating DIR (sticky, world-
# writable, as /tmp) and the file (world-readable) when missing. Fails, with LOCK_PROBLEM
# saying why, for a GPU id that is not a plain name, and for a dir or file that is a link
# or not what it should be (another user could plant a FIFO or a link there).
gpu_lock_file() {
  local dir=$1 gpu=$2
  LOCK_FILE='' LOCK_PROBLEM=''
  if ! [[ $gpu =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then LOCK_PROBLEM="bad GPU id: $gpu"; return 1; fi
  if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
    (umask 000; mkdir -p -- "$dir" 2>/dev/null && chmod 1777 -- "$dir" 2>/dev/null)
  fi
  if [ -L "$dir" ] || [ ! -d "$dir" ]; then LOCK_PROBLEM="the GPU lock folder $dir is missing or a link"; return 1; fi
  LOCK_FILE=$dir/$gpu.lock
  [ -e "$LOCK_FILE" ] || [ -L "$LOCK_FILE" ] || (umask 022; : >> "$LOCK_FILE") 2>/dev/null
  if [ -L "$LOCK_FILE" ] || [ ! -f "$LOCK_FILE" ] || [ ! -r "$LOCK_FILE" ]; then
    LOCK_PROBLEM="cannot use $LOCK_FILE (missing, unreadable, or not a regular file; its folder must be mode 1777)"
    return 1
  fi
}
# ---- end shared ----
`;

/** `leases.sh LOCK_DIR GPU…`: which GPUs are leased, and by what. */
export const GPU_LEASES_SH = `#!/usr/bin/env bash
# Keel: leases.sh LOCK_DIR GPU… — is each GPU leased? A job's wrapper (and the job's own
# processes) hold an flock on LOCK_DIR/GPU.lock while it runs; so may anything else on the
# host (another user's job, a stray process). Prints for each GPU one of
#   KEEL_GPU GPU free
#   KEEL_GPU GPU busy PID COMMAND     (PID 0 and COMMAND "?" when the holder cannot be seen)
#   KEEL_GPU GPU invalid WHY
# then KEEL_END.

set -u
umask 077
${GPU_LOCK_SH}
root=\${1:?usage: leases.sh LOCK_DIR GPU...}
shift

# holder FILE: "PID COMMAND" of a process holding a lock on FILE, from /proc/locks.
holder() {
  local ino pid line cmd
  ino=$(stat -c %i -- "$1" 2>/dev/null) || { echo '0 ?'; return; }
  while read -r line; do
    # shellcheck disable=SC2086  # split the line into its fields on purpose
    set -- $line
    # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiter ("1: -> FLOCK …") holds nothing.
    [ "\${2:-}" = '->' ] && continue
    [ "\${6##*:}" = "$ino" ] || continue
    pid=$5
    cmd=$(tr '\\0\\n' '  ' < "/proc/$pid/cmdline" 2>/dev/null | head -c 200)
    echo "$pid \${cmd:-?}"
    return
  done < /proc/locks
  echo '0 ?'
}

for gpu in "$@"; do
  if ! gpu_lock_file "$root" "$gpu"; then
    printf 'KEEL_GPU %s invalid %s\\n' "\${gpu//$'\\n'/?}" "$LOCK_PROBLEM"
    continue
  fi
  # Try the lock: if it is free we hold it for an instant only (run.sh waits up to 2 s for
  # its lock, so this test cannot make a starting job fail).
  if ( exec {fd}<"$LOCK_FILE" && flock -n "$fd" ) 2>/dev/null; then
    printf 'KEEL_GPU %s free\\n' "$gpu"
  else
    printf 'KEEL_GPU %s busy %s\\n' "$gpu" "$(holder "$LOCK_FILE")"
  fi
done
printf 'KEEL_END\\n'
`;
