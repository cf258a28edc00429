/**
 * The short scripts the daemon runs on a host (over ssh, or locally) to start, probe and
 * cancel jobs. Each prints KEEL_* marker lines and ends with KEEL_END; markers.ts reads
 * them. The bash is embedded in template literals: read `\${` as `${` and `\\` as `\`.
 */
import { PROC_SH, STATE_SH } from './sh-shared.ts';

/** `start.sh JOBDIR`: the idempotent start. */
export const START_SH = `#!/usr/bin/env bash
# Keel: start.sh JOBDIR — start the job in JOBDIR unless it was started before.
#
# Idempotent, so the daemon may run it again after any failure: under the lock
# JOBDIR/state/start.lock it reports a job that finished, runs or was lost instead of
# starting it again (a lost job is retried by the daemon in a new attempt dir). A job with
# state/cancel (the cancel came first, even before the job dir was written) is never
# started: it is finished here with 143. Otherwise it launches run.sh in a session of its
# own, immune to hangups, records that process's identity in state/launched, and waits up
# to 10 s for state/pid. A wrapper still alive without a pid by then is left to start (a
# slow NFS home): "starting", which probe.sh keeps reporting while that process lives.
# Prints one line, then KEEL_END:
#   KEEL_STATE started PID | running PID | finished CODE | lost WHY | starting | missing
#   KEEL_STATE error WHY   (nothing was started; safe to try again)

set -u
umask 077  # job folders hold job.env and outputs: private to the user
${PROC_SH}${STATE_SH}
jobdir=\${1:?usage: start.sh JOBDIR}
if ! cd -- "$jobdir" 2>/dev/null; then say STATE missing; say END; exit 0; fi
jobdir=$PWD

fail() { say STATE error "$*"; say END; exit 0; }

mkdir -p state logs || fail "cannot create state/ and logs/ in $jobdir"
exec {lock}>>state/start.lock || fail "cannot open state/start.lock"
flock -w 60 "$lock" || fail "state/start.lock is held by another start or cancel"

job_state
if [ "$JOB_STATE" = new ] && [ -e state/cancel ]; then
  end_before_start
  job_state
fi
if [ "$JOB_STATE" != new ]; then say STATE "$JOB_STATE"; say END; exit 0; fi
[ -f run.sh ] || fail "no run.sh in $jobdir"
[ -f job.env ] || fail "no job.env in $jobdir"

# {lock}>&- : the wrapper must not inherit (and so hold) the start lock for its lifetime.
setsid nohup bash "$jobdir/run.sh" "$jobdir" </dev/null >>logs/wrapper.log 2>&1 {lock}>&- &
launched=$!
if proc_stat "$launched"; then
  printf '%s %s %s %s\\n' "$launched" "$launched" "$(boot_id)" "$STAT_START" > state/launched
else
  date +%s > state/launched  # gone already: job_state judges it by its age
fi

for _ in $(seq 100); do
  [ -f state/pid ] && break
  # Exited before writing state/pid (bash could not read run.sh, say): stop waiting.
  if ! proc_stat "$launched" || [ "$STAT_STATE" = Z ]; then break; fi
  sleep 0.1
done

if [ -f state/pid ]; then
  # Launched by this call, even if it has already finished or died: probe.sh tells which.
  read -r pid _ < state/pid
  say STATE started "$pid"
elif proc_stat "$launched" && [ "$STAT_STATE" != Z ]; then
  say STATE starting
else
  wait "$launched" 2>/dev/null
  rm -f state/launched
  fail "the wrapper did not start; see logs/wrapper.log"
fi
say END
`;

/** `probe.sh JOBDIR…`: every job's state in one call, changing nothing. */
export const PROBE_SH = `#!/usr/bin/env bash
# Keel: probe.sh JOBDIR… — report jobs' state without changing anything, one SSH round
# trip for all of a host's jobs. Prints:
#   KEEL_BOOT_ID ID                        this host's current boot
# then for each JOBDIR, in argument order:
#   KEEL_JOB JOBDIR
#   KEEL_STATE finished CODE | running PID | lost WHY | starting | new | missing
#   KEEL_HEARTBEAT AGE_SECONDS | none      since state/heartbeat was touched
#   KEEL_LOG_SIZE BYTES                    of logs/output.log (0 when absent)
#   KEEL_CANCEL yes | no                   whether state/cancel exists (a cancel was asked)
#   KEEL_STOP_REASON TEXT                  only when state/stop_reason exists (first line)
#   KEEL_ERROR TEXT                        only when state/error exists (first line)
# and finally KEEL_END (its absence means the output was cut short).
# WHY is one of: pid gone | boot id changed | start time mismatch | unreadable pid file |
#   the wrapper ended before writing state/pid | no pid 60 s after launch.

set -u
umask 077  # job folders hold job.env and outputs: private to the user
${PROC_SH}${STATE_SH}
say BOOT_ID "$(boot_id)"
for jobdir in "$@"; do
  say JOB "\${jobdir//$'\\n'/?}"
  if ! ( cd -- "$jobdir" 2>/dev/null ); then
    say STATE missing
    continue
  fi
  # A subshell, so that the cd of one job does not move the next.
  (
    cd -- "$jobdir" || exit 0
    job_state
    say STATE "$JOB_STATE"
    say HEARTBEAT "$(file_age state/heartbeat || echo none)"
    say LOG_SIZE "$(stat -c %s logs/output.log 2>/dev/null || echo 0)"
    if [ -e state/cancel ]; then say CANCEL yes; else say CANCEL no; fi
    for f in stop_reason error; do
      [ -f "state/$f" ] || continue
      IFS= read -r line < "state/$f"
      [ "$f" = stop_reason ] && say STOP_REASON "$line"
      [ "$f" = error ] && say ERROR "$line"
    done
  )
done
say END
`;

/** `cancel.sh JOBDIR [GRACE_SECONDS]`: ask a job to stop. */
export const CANCEL_SH = `#!/usr/bin/env bash
# Keel: cancel.sh JOBDIR [GRACE_SECONDS] — stop a job, and note that it was asked to.
#
# Touches state/cancel (the wrapper also polls it; start.sh refuses a job that has it), then
# under state/start.lock:
#   finished → nothing to do;
#   running  → TERM the wrapper itself (not its group): it forwards TERM to the job's
#              group, waits its grace period, KILLs, and writes exit_code;
#   never started → writes exit_code 143 itself, so no later start runs it;
#   starting → the wrapper sees state/cancel right after writing state/pid;
#   lost     → if the job's own group outlived a killed wrapper, TERM that group and, GRACE
#              seconds later (default: job.env's KEEL_KILL_GRACE_SECONDS, or 30), KILL those
#              of its processes that existed at the TERM (never a later group that reuses the id);
#   no job dir yet → creates JOBDIR/state/cancel, so a job dir written later never starts.
# Prints one line, then KEEL_END:
#   KEEL_CANCEL finished CODE | wrapper PID | group PGID | never-started | requested |
#   nothing-running | missing
# (\`cancel.sh --kill-later GRACE PID:STARTTIME…\` is the detached KILL of the lost branch.)

set -u
umask 077  # job folders hold job.env and outputs: private to the user
${PROC_SH}${STATE_SH}
# kill_later GRACE PID:STARTTIME…: after GRACE seconds, KILL each process that is still the
# same one (same pid and start time): a pid or group id reused meanwhile is someone else's.
kill_later() {
  local member
  sleep "$1"
  shift
  for member in "$@"; do
    if proc_stat "\${member%%:*}" && [ "$STAT_START" = "\${member#*:}" ]; then kill -KILL "\${member%%:*}" 2>/dev/null; fi
  done
}
if [ "\${1:-}" = --kill-later ]; then shift; kill_later "$@"; exit 0; fi

jobdir=\${1:?usage: cancel.sh JOBDIR [GRACE_SECONDS]}
if ! cd -- "$jobdir" 2>/dev/null; then
  mkdir -p -- "$jobdir/state" 2>/dev/null && touch -- "$jobdir/state/cancel"
  say CANCEL missing; say END; exit 0
fi
# The grace period: the argument, else the job's own (job.env only assigns, see run.sh),
# else the environment's, else 30 s.
job_grace() {
  # shellcheck disable=SC1091
  [ -f job.env ] && ( . ./job.env >/dev/null 2>&1; echo "\${KEEL_KILL_GRACE_SECONDS:-}" )
}
grace=\${2:-$(job_grace)}
grace=\${grace:-30}
[[ $grace =~ ^[0-9]+(\\.[0-9]+)?$ ]] || grace=30

# group_members PGID: "pid:starttime" of every live process in that process group.
group_members() {
  local stat pid
  for stat in /proc/[0-9]*/stat; do
    pid=\${stat#/proc/}; pid=\${pid%/stat}
    proc_stat "$pid" || continue
    [ "$STAT_PGID" = "$1" ] && [ "$STAT_STATE" != Z ] && printf '%s:%s ' "$pid" "$STAT_START"
  done
}

mkdir -p state && touch state/cancel
# Wait for a start in progress to finish (then there is a pid to signal); but a stuck
# lock must not stop a cancel, so go on after a minute regardless.
exec {lock}>>state/start.lock && flock -w 60 "$lock"

job_state
case $JOB_STATE in
  finished*)
    say CANCEL "$JOB_STATE" ;;
  running*)
    kill -TERM "$ID_PID" 2>/dev/null
    say CANCEL wrapper "$ID_PID" ;;
  new)
    end_before_start
    say CANCEL never-started ;;
  starting)
    say CANCEL requested ;;
  *)
    # The wrapper is gone. Its job's group may not be (the wrapper was kill -9'd).
    if [ -f state/job_pid ]; then check_identity state/job_pid; else ID_LOST=none; fi
    if [ -z "$ID_LOST" ]; then
      read -r -a members <<< "$(group_members "$ID_PGID")"
      kill -TERM -- "-$ID_PGID" 2>/dev/null
      # KILL later from a detached process, so this call returns at once.
      setsid nohup bash "$0" --kill-later "$grace" "\${members[@]}" </dev/null >/dev/null 2>&1 {lock}>&- &
      say CANCEL group "$ID_PGID"
    else
      say CANCEL nothing-running
    fi ;;
esac
say END
`;
