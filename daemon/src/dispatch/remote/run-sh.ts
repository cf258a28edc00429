/**
 * run.sh, the wrapper that runs one attempt of a job on its host (see its header comment).
 * The bash is embedded in template literals: read `\${` as `${` and `\\` as `\`.
 */
import { PROC_SH } from './sh-shared.ts';
import { DEFAULT_GPU_LOCK_DIR, GPU_LOCK_SH } from './gpu-sh.ts';

/** The job wrapper, written as `<jobdir>/run.sh`; start.sh launches it detached. */
export const RUN_SH = `#!/usr/bin/env bash
# Keel job wrapper — run.sh [JOBDIR] (default: the folder holding this file; pass it under
# Slurm, which runs a copy of the batch script from its spool dir).
#
# Runs one attempt of a job so that it outlives the daemon, the SSH connection and the
# laptop: everything it knows goes into files under JOBDIR, and it needs only bash ≥ 4.4,
# coreutils and util-linux (flock, setsid). start.sh launches it detached.
#
# Reads JOBDIR/job.env, which the daemon writes and this script sources; every value in it
# is single-quoted by the daemon's shellQuote, so sourcing it assigns and runs nothing:
#   KEEL_RUN_ID, KEEL_COMMAND (bash -c text, run from the code dir),
#   KEEL_GPUS (comma-separated GPU UUIDs to lease; '' runs on CPU; unset leaves
#   CUDA_VISIBLE_DEVICES to a scheduler), KEEL_GPU_INDICES (their nvidia-smi indices when
#   Keel placed the job, used when nvidia-smi cannot say now), KEEL_GPU_LOCK_DIR (the
#   machine-wide lock folder, default ${DEFAULT_GPU_LOCK_DIR}), KEEL_OUTPUT_DIR, KEEL_CONFIG,
#   KEEL_CHECKPOINT, KEEL_SETUP_COMMAND (run once per code dir), KEEL_ROOT (Keel's folder
#   on the host, for the record), KEEL_CODE_DIR (default JOBDIR/code), KEEL_JOB_ENV (array of NAME=value,
#   given to the setup and the command only), KEEL_HEARTBEAT_SECONDS (15),
#   KEEL_KILL_GRACE_SECONDS (30). The last two may also come from the environment.
#
# Writes JOBDIR/state/: pid ("pid pgid boot_id starttime"), started_at, heartbeat,
# job_pid (same format, for the setup or command's process group), stop_reason ("cancel",
# "signal TERM" or "signal INT"), error, ended_at, and last exit_code (written to
# exit_code.tmp, then renamed: present = finished). Output goes to logs/output.log.
#
# The command must run in the foreground: when it exits, whatever it left running in its
# process group is TERMed (and KILLed after the grace period) before exit_code is written.
#
# The job sees CUDA_VISIBLE_DEVICES as the GPUs' current nvidia-smi indices, with
# CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA numbers them as nvidia-smi does (its default,
# fastest-first order can make index 0 another physical GPU), and KEEL_GPU_UUIDS.
#
# Exit codes: the command's own, or 128+N when signal N ended it (143 TERM, 137 KILL);
# 75 when a GPU is leased to another job (nothing ran: requeue); 78 when job.env, the
# code dir or a GPU is unusable; the setup's own code when the setup failed. When the
# command did not run, state/error says why.

set -u
# No \`set -e\`: every path must reach finish() and write exit_code.
# Private to the user: state/, logs/, and what the job writes (outputs, checkpoints) get no
# group or other bits; job.env next to them holds the job's secrets.
umask 077

jobdir=$(cd "\${1:-$(dirname "$0")}" && pwd) || exit 78
state=$jobdir/state
log=$jobdir/logs/output.log
mkdir -p "$state" "$jobdir/logs" && cd "$jobdir" || exit 78

${PROC_SH}${GPU_LOCK_SH}
wrapper_pid=$$
stop_signal=''    # TERM or INT once a stop was asked for
interrupted=0     # set by the trap, so the wait loop knows its wait was cut short
group_pid=''      # the setup or command now running, in its own process group
group_status=''
killer_pid=''     # sends KILL to the group when the grace period is over
heartbeat_pid=''
gpu_fds=()        # open lock files of our GPUs; the kernel drops the locks with the last fd

# note TEXT: a line for logs/wrapper.log (start.sh sends our stderr there).
note() { printf '%s keel run.sh: %s\\n' "$(date -u +%FT%TZ)" "$*" >&2; }

# write_atomic FILE TEXT: readers see the old file or the whole new one, never half.
write_atomic() { printf '%s\\n' "$2" > "$1.tmp" && mv -f -- "$1.tmp" "$1"; }

now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

close_gpu_fds() {
  local fd
  for fd in \${gpu_fds[@]+"\${gpu_fds[@]}"}; do exec {fd}>&-; done
  gpu_fds=()
}

# finish CODE [ERROR]: the only way out once state/pid is written.
finish() {
  trap '' TERM INT
  [ -n "$heartbeat_pid" ] && kill -KILL "$heartbeat_pid" 2>/dev/null
  [ -n "$killer_pid" ] && kill -KILL "$killer_pid" 2>/dev/null
  # Give the GPUs back before saying "finished", so the next job's lock succeeds.
  close_gpu_fds
  if [ $# -ge 2 ]; then write_atomic "$state/error" "$2"; note "$2"; fi
  touch "$state/heartbeat"
  write_atomic "$state/ended_at" "$(now)"
  write_atomic "$state/exit_code" "$1"
  exit "$1"
}

# finish_stopped: a stop came before the command started.
finish_stopped() {
  local code=143
  [ "$stop_signal" = INT ] && code=130
  finish "$code" "stopped before the command started"
}

# signal_group SIGNAL: the whole group, or just the leader if it has not called setsid yet.
signal_group() {
  kill "-$1" -- "-$group_pid" 2>/dev/null || kill "-$1" "$group_pid" 2>/dev/null
}

# stop_group: TERM now, KILL after the grace period unless the group is gone by then.
stop_group() {
  signal_group TERM
  [ -n "$killer_pid" ] && return
  ( trap - TERM INT; close_gpu_fds; sleep "$grace"; signal_group KILL ) &
  killer_pid=$!
  disown "$killer_pid"   # so bash does not log "Killed" when we end it early
}

on_stop() {
  interrupted=1
  [ -n "$stop_signal" ] && return
  stop_signal=$1
  local why="signal $1"
  [ -e "$state/cancel" ] && why=cancel
  write_atomic "$state/stop_reason" "$why"
  note "stopping: $why"
  [ -n "$group_pid" ] && stop_group
}
# Set before state/pid exists: once start.sh reports us, a TERM must end in exit_code.
trap 'on_stop TERM' TERM
trap 'on_stop INT' INT

# record_identity FILE PID [PGID]: "pid pgid boot_id starttime", enough to tell this
# process from a later one that gets the same pid (or the same pid after a reboot).
record_identity() {
  local start=0 pgid=\${3:-}
  if proc_stat "$2"; then
    start=$STAT_START
    pgid=\${pgid:-$STAT_PGID}
  fi
  # A process already gone gets starttime 0, which matches no live process.
  write_atomic "$1" "$2 \${pgid:-$2} $(boot_id) $start"
}

# heartbeat: touches state/heartbeat, and turns state/cancel into a TERM for us. Ends on
# its own when the wrapper is gone (kill -9), since its parent then changes.
heartbeat() {
  trap '' TERM INT
  local told=''
  while proc_stat "$BASHPID" && [ "$STAT_PPID" = "$wrapper_pid" ]; do
    touch "$state/heartbeat"
    if [ -z "$told" ] && [ -e "$state/cancel" ]; then
      kill -TERM "$wrapper_pid"
      told=1
    fi
    sleep "$heartbeat_seconds"
  done
}

# run_group TEXT: runs \`bash -c TEXT\` from the code dir in a session and process group of
# its own, output appended to logs/output.log, and waits for it; sets group_status. GPU
# lock fds are inherited on purpose: while any process of the job lives, the GPU is busy.
run_group() {
  ( cd "$code_dir" || exit 78
    umask "\${KEEL_USER_UMASK:-0022}"   # the job's own files: the user's modes (its folder stays 0700)
    exec setsid env -- \${KEEL_JOB_ENV[@]+"\${KEEL_JOB_ENV[@]}"} bash -c "$1"
  ) </dev/null >>"$log" 2>&1 &
  group_pid=$!
  record_identity "$state/job_pid" "$group_pid" "$group_pid"
  [ -n "$stop_signal" ] && stop_group   # a stop that came while we forked
  while :; do
    interrupted=0
    wait "$group_pid"
    group_status=$?
    # A trapped signal cuts \`wait\` short; bash keeps the child's status for the next one.
    [ "$interrupted" = 1 ] || break
  done
  end_group
}

# end_group: the leader has exited; nothing it started may outlive it, or a stray
# process would keep the GPU lock (and the GPU) forever.
end_group() {
  local g=$group_pid waited=0
  group_pid=''
  if kill -0 -- "-$g" 2>/dev/null; then
    note "processes of the job's group outlived it; stopping them"
    group_pid=$g stop_group
    group_pid=''
    while kill -0 -- "-$g" 2>/dev/null; do
      # After the KILL (the killer has exited) allow 5 s more, then give up.
      if ! kill -0 "$killer_pid" 2>/dev/null; then
        waited=$((waited + 1))
        [ "$waited" -gt 25 ] && break
      fi
      sleep 0.2
    done
  fi
  [ -n "$killer_pid" ] && kill -KILL "$killer_pid" 2>/dev/null
  killer_pid=''
}

load_job_env() {
  [ -f job.env ] || finish 78 "no job.env in $jobdir"
  # shellcheck disable=SC1091
  . ./job.env || finish 78 "job.env could not be read"
  [ -n "\${KEEL_COMMAND:-}" ] || finish 78 "job.env sets no KEEL_COMMAND"
  [ -n "\${KEEL_RUN_ID:-}" ] || finish 78 "job.env sets no KEEL_RUN_ID"
  heartbeat_seconds=\${KEEL_HEARTBEAT_SECONDS:-15}
  grace=\${KEEL_KILL_GRACE_SECONDS:-30}
  [[ $heartbeat_seconds =~ ^[0-9]+(\\.[0-9]+)?$ && $heartbeat_seconds =~ [1-9] ]] ||
    finish 78 "bad KEEL_HEARTBEAT_SECONDS: $heartbeat_seconds"
  [[ $grace =~ ^[0-9]+(\\.[0-9]+)?$ ]] || finish 78 "bad KEEL_KILL_GRACE_SECONDS: $grace"
  code_dir=\${KEEL_CODE_DIR:-$jobdir/code}
  gpus=\${KEEL_GPUS:-}
  lock_dir=\${KEEL_GPU_LOCK_DIR:-${DEFAULT_GPU_LOCK_DIR}}
}

# lock_gpus: one exclusive flock per GPU, in the machine-wide lock folder. A short wait
# rides out leases.sh's momentary test lock; a GPU held by anything else means exit 75
# and the daemon requeues (with back-off) after asking leases.sh who holds it.
lock_gpus() {
  local g fd
  local -a ids
  IFS=, read -r -a ids <<< "$gpus"
  [ \${#ids[@]} -eq 0 ] && return
  for g in "\${ids[@]}"; do
    gpu_lock_file "$lock_dir" "$g" || finish 78 "$LOCK_PROBLEM"
    exec {fd}<"$LOCK_FILE" || finish 78 "cannot open $LOCK_FILE"
    gpu_fds+=("$fd")
    flock -w 2 "$fd" || finish 75 "gpu $g busy"
  done
}

# gpu_indices: CUDA_VISIBLE_DEVICES for the leased UUIDs — nvidia-smi's index of each now
# (the order may have changed since Keel placed the job), the index recorded then when
# nvidia-smi cannot tell, the id itself when it is an index (a job.env of an older Keel).
gpu_indices() {
  local map i idx
  local -a ids hints out=()
  IFS=, read -r -a ids <<< "$gpus"
  IFS=, read -r -a hints <<< "\${KEEL_GPU_INDICES:-}"
  map=$(nvidia-smi --query-gpu=index,uuid --format=csv,noheader,nounits 2>/dev/null) || map=''
  for i in "\${!ids[@]}"; do
    idx=''
    if [ -n "$map" ]; then
      idx=$(printf '%s\n' "$map" | awk -F', *' -v u="\${ids[$i]}" '$2 == u { print $1; exit }')
      [ -n "$idx" ] || [[ \${ids[$i]} =~ ^[0-9]+$ ]] || finish 78 "GPU \${ids[$i]} is not on this host any more (nvidia-smi does not list it)"
    fi
    [ -n "$idx" ] || idx=\${hints[$i]:-}
    [ -n "$idx" ] || { [[ \${ids[$i]} =~ ^[0-9]+$ ]] && idx=\${ids[$i]}; }
    [ -n "$idx" ] || finish 78 "no index known for GPU \${ids[$i]}"
    out+=("$idx")
  done
  local IFS=,
  GPU_INDICES="\${out[*]}"
}

# setup: KEEL_SETUP_COMMAND runs once per code dir (and again if its text changes),
# under a lock so that two jobs on the same code never run it at the same time.
run_setup() {
  [ -n "\${KEEL_SETUP_COMMAND:-}" ] || return 0
  local marker=$code_dir/.keel-setup-done fd
  exec {fd}>>"$code_dir/.keel-setup.lock" || finish 78 "cannot write $code_dir/.keel-setup.lock"
  until flock -n "$fd"; do
    [ -n "$stop_signal" ] && finish_stopped
    sleep 1
  done
  if ! printf '%s' "$KEEL_SETUP_COMMAND" | cmp -s - "$marker"; then
    [ -n "$stop_signal" ] && finish_stopped
    note "running setup in $code_dir"
    run_group "$KEEL_SETUP_COMMAND"
    [ -n "$stop_signal" ] && finish "$group_status" "stopped during setup"
    [ "$group_status" = 0 ] || finish "$group_status" "setup failed"
    { printf '%s' "$KEEL_SETUP_COMMAND" > "$marker.tmp" && mv -f -- "$marker.tmp" "$marker"; } ||
      note "could not write $marker; setup will run again next time"
  fi
  exec {fd}>&-
}

# ---- main ----
# Slurm runs this script again, in the same job dir, when it requeues the job (scontrol
# requeue, preemption): the previous run's end moves to state/restart-N/, so the job reads
# as running again instead of finished.
if [[ \${SLURM_RESTART_COUNT:-0} =~ ^[1-9][0-9]*$ ]]; then
  mkdir -p "$state/restart-$SLURM_RESTART_COUNT"
  for f in exit_code ended_at stop_reason error job_pid; do
    [ -e "$state/$f" ] && mv -f -- "$state/$f" "$state/restart-$SLURM_RESTART_COUNT/"
  done
  note "Slurm restarted this job (restart $SLURM_RESTART_COUNT); the previous run's end is in state/restart-$SLURM_RESTART_COUNT/"
fi
record_identity "$state/pid" "$wrapper_pid"
write_atomic "$state/started_at" "$(now)"
load_job_env
heartbeat &
heartbeat_pid=$!
disown "$heartbeat_pid"
[ -e "$state/cancel" ] && on_stop TERM
[ -n "$stop_signal" ] && finish_stopped
lock_gpus
[ -d "$code_dir" ] || finish 78 "code dir missing: $code_dir"
# Unset KEEL_GPUS: a scheduler (Slurm) chose the GPUs and set CUDA_VISIBLE_DEVICES itself.
if [ -n "\${KEEL_GPUS+set}" ]; then
  GPU_INDICES=''
  [ -n "$gpus" ] && gpu_indices
  export CUDA_VISIBLE_DEVICES=$GPU_INDICES CUDA_DEVICE_ORDER=PCI_BUS_ID KEEL_GPU_UUIDS=$gpus
fi
export KEEL_RUN_ID KEEL_JOB_DIR=$jobdir PYTHONUNBUFFERED=1
export KEEL_OUTPUT_DIR=\${KEEL_OUTPUT_DIR:-} KEEL_CONFIG=\${KEEL_CONFIG:-} KEEL_CHECKPOINT=\${KEEL_CHECKPOINT:-}
run_setup
[ -n "$stop_signal" ] && finish_stopped
note "running the command in $code_dir"
run_group "$KEEL_COMMAND"
finish "$group_status"
`;
