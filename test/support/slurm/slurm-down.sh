#!/usr/bin/env bash
# Keel test support: this project's own copy of the reference recipe the Keel team checked on
# a Debian 12 machine (shared/tools/slurm/slurm-down.sh), kept here so that a clone runs its tests alone.
# Changes from the reference: shellcheck-clean (no behaviour change); test/support/slurm-cluster.ts drives it.
# slurm-down.sh - stop what slurm-up.sh started, using its pid files only.
#   default : cancel all jobs (so no orphan slurmstepd survives), then stop
#             sshd, slurmd, slurmctld, slurmdbd, mariadbd, munged (SIGTERM, SIGKILL after 30 s)
#   KEEP_JOBS=1 : do not cancel jobs (slurmctld/slurmdbd state keeps them; running
#                 job steps keep running without slurmd)
#   --purge : afterwards also delete state, logs, database, keys, ports (packages and
#             the slurmtest user stay) -> the next slurm-up.sh is a fresh cluster
set -uo pipefail
BASE=$(realpath -m "${SLURM_BASE:-/tmp/keel-slurm}")
RUN=$BASE/run
export SLURM_CONF=$BASE/etc/slurm.conf
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

pid_of() { # pidfile comm -> pid if that process is alive and is really <comm>
  local pid; [ -s "$1" ] || return 1; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ] && echo "$pid"
}

# a zombie (exited, not yet reaped by init) counts as stopped
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# 1. cancel jobs while slurmctld still runs
if [ "${KEEP_JOBS:-0}" != 1 ] && pid_of "$RUN/slurmctld.pid" slurmctld >/dev/null && [ -f "$SLURM_CONF" ]; then
  jobs=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// }" ]; then
    echo "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null
    end=$(( $(date +%s) + 30 ))
    while squeue -h -t RUNNING,COMPLETING,CONFIGURING -o %i 2>/dev/null | grep -q . && [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
  fi
fi

# 2. stop daemons, reverse start order
stop() { # name pidfile comm
  local pid t0
  t0=$(date +%s%N)
  if ! pid=$(pid_of "$2" "$3"); then
    echo "$1: not running"; rm -f "$2"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 300); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then echo "$1: still alive after 30s, SIGKILL $pid"; kill -KILL "$pid" 2>/dev/null; sleep 0.5; fi
  echo "$1: stopped (pid $pid, $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
  rm -f "$2"
}
stop sshd      "$RUN/sshd.pid"           sshd
stop slurmd    "$RUN/slurmd.pid"         slurmd
stop slurmctld "$RUN/slurmctld.pid"      slurmctld
stop slurmdbd  "$RUN/slurmdbd.pid"       slurmdbd
stop mariadbd  "$BASE/mysql/mariadb.pid" mariadbd
stop munged    "$BASE/munge/munged.pid"  munged
rm -f "$RUN/munged.pid" "$RUN/mariadb.pid"

if [ "${1:-}" = --purge ]; then
  echo "purging state under $BASE"
  rm -rf "${BASE:?}/state" "${BASE:?}/log" "${BASE:?}/run" "${BASE:?}/mysql" "${BASE:?}/munge" "${BASE:?}/ssh" "${BASE:?}/dev" \
         "${BASE:?}/etc" "${BASE:?}/ports.env" "${BASE:?}/env.sh" "${BASE:?}/cluster.env" "${BASE:?}/shared"
fi
