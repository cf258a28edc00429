/**
 * The short scripts the daemon runs on a host (over ssh, or locally) to start, probe and
 * cancel jobs and to see which GPUs are leased. Each prints KEEL_* marker lines and ends
 * with KEEL_END; markers.ts reads them. The bash is embedded in template literals: read `\${` as `${` and `\\` as `\`.
 */
import { PROC_SH, STATE_SH } from './sh-shared.ts';

/** `start.sh JOBDIR`: the idempotent start. */
export const START_SH = `#!/usr/bin/env bash
# Keel: start.sh JOBDIR — start the job in JOBDIR unless it was started before.
#
# Idempotent, so the daemon may run it again after any failure: under the lock
# JOBDIR/state/start.lock it reports a job that finished, runs or was lost instead of
# starting it again (a lost job is retried by the daemon in a new attempt dir). Otherwise
# it writes state/launched, launches run.sh in a session of its own, immune to hangups,
# and waits up to 10 s for state/pid. Prints one line, then KEEL_END:
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
if [ "$JOB_STATE" != new ]; then say STATE "$JOB_STATE"; say END; exit 0; fi
[ -f run.sh ] || fail "no run.sh in $jobdir"
[ -f job.env ] || fail "no job.env in $jobdir"

date +%s > state/launched
# {lock}>&- : the wrapper must not inherit (and so hold) the start lock for its lifetime.
setsid nohup bash "$jobdir/run.sh" "$jobdir" </dev/null >>logs/wrapper.log 2>&1 {lock}>&- &
launched=$!

for _ in $(seq 100); do
  [ -f state/pid ] && break
  # Exited before writing state/pid (bash could not read run.sh, say): stop waiting.
  if ! proc_stat "$launched" || [ "$STAT_STATE" = Z ]; then break; fi
  sleep 0.1
done

if [ ! -f state/pid ]; then
  # Our own child, so its pid cannot have been reused: make sure it is gone, then the
  # job is "new" again and a later start may try once more.
  kill -KILL "$launched" 2>/dev/null
  wait "$launched" 2>/dev/null
fi
if [ -f state/pid ]; then
  # Launched by this call, even if it has already finished or died: probe.sh tells which.
  read -r pid _ < state/pid
  say STATE started "$pid"
else
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
#   KEEL_ERROR TEXT                        only when state/error exists (first line)
# and finally KEEL_END (its absence means the output was cut short).
# WHY is one of: pid gone | boot id changed | start time mismatch |
#   no pid 60 s after launch | unreadable pid file.

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
    if [ -f state/error ]; then
      IFS= read -r error < state/error
      say ERROR "$error"
    fi
  )
done
say END
`;

/** `cancel.sh JOBDIR [GRACE_SECONDS]`: ask a job to stop. */
export const CANCEL_SH = `#!/usr/bin/env bash
# Keel: cancel.sh JOBDIR [GRACE_SECONDS] — stop a job, and note that it was asked to.
#
# Touches state/cancel (the wrapper also polls it), then under state/start.lock:
#   finished → nothing to do;
#   running  → TERM the wrapper itself (not its group): it forwards TERM to the job's
#              group, waits its grace period, KILLs, and writes exit_code;
#   never started → writes exit_code 143 itself, so no later start runs it;
#   starting → the wrapper sees state/cancel right after writing state/pid;
#   lost     → if the job's own group outlived a killed wrapper, TERM that group and
#              KILL it GRACE_SECONDS later (default: job.env's KEEL_KILL_GRACE_SECONDS, or 30).
# Prints one line, then KEEL_END:
#   KEEL_CANCEL finished CODE | wrapper PID | group PGID | never-started | requested |
#   nothing-running | missing

set -u
umask 077  # job folders hold job.env and outputs: private to the user
${PROC_SH}${STATE_SH}
jobdir=\${1:?usage: cancel.sh JOBDIR [GRACE_SECONDS]}
if ! cd -- "$jobdir" 2>/dev/null; then say CANCEL missing; say END; exit 0; fi
# The grace period: the argument, else the job's own (job.env only assigns, see run.sh),
# else the environment's, else 30 s.
job_grace() {
  # shellcheck disable=SC1091
  [ -f job.env ] && ( . ./job.env >/dev/null 2>&1; echo "\${KEEL_KILL_GRACE_SECONDS:-}" )
}
grace=\${2:-$(job_grace)}
grace=\${grace:-30}
[[ $grace =~ ^[0-9]+(\\.[0-9]+)?$ ]] || grace=30

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
    printf 'cancel\\n' > state/stop_reason
    printf 'cancelled before start\\n' > state/error
    date -u +%Y-%m-%dT%H:%M:%S.%3NZ > state/ended_at
    printf '143\\n' > state/exit_code.tmp && mv -f state/exit_code.tmp state/exit_code
    say CANCEL never-started ;;
  starting)
    say CANCEL requested ;;
  *)
    # The wrapper is gone. Its job's group may not be (the wrapper was kill -9'd).
    if [ -f state/job_pid ]; then check_identity state/job_pid; else ID_LOST=none; fi
    if [ -z "$ID_LOST" ]; then
      kill -TERM -- "-$ID_PGID" 2>/dev/null
      # KILL later from a detached process, so this call returns at once. A pgid is not
      # reused while any member of the group lives.
      # shellcheck disable=SC2016  # the inner script expands its own "$1" and "$2"
      setsid nohup bash -c 'sleep "$1"; kill -KILL -- "-$2"' keel-cancel "$grace" "$ID_PGID" \\
        </dev/null >/dev/null 2>&1 {lock}>&- &
      say CANCEL group "$ID_PGID"
    else
      say CANCEL nothing-running
    fi ;;
esac
say END
`;

/** `leases.sh KEEL_ROOT GPU…`: which GPUs a running job holds. */
export const GPU_LEASES_SH = `#!/usr/bin/env bash
# Keel: leases.sh KEEL_ROOT GPU… — is each GPU leased to a running job? A job's wrapper
# (and the job's own processes) hold an flock on KEEL_ROOT/gpus/GPU.lock while it runs.
# Prints KEEL_GPU GPU free|busy|invalid for each, then KEEL_END.

set -u
umask 077  # job folders hold job.env and outputs: private to the user
root=\${1:?usage: leases.sh KEEL_ROOT GPU...}
shift
for gpu in "$@"; do
  if ! [[ $gpu =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    printf 'KEEL_GPU %s invalid\\n' "\${gpu//$'\\n'/?}"
    continue
  fi
  lock=$root/gpus/$gpu.lock
  # Try the lock in a subshell: if it is free we hold it for an instant only (run.sh waits
  # up to 2 s for its lock, so this test cannot make a starting job fail).
  if [ -e "$lock" ] && ! ( exec {fd}<"$lock" && flock -n "$fd" ) 2>/dev/null; then
    printf 'KEEL_GPU %s busy\\n' "$gpu"
  else
    printf 'KEEL_GPU %s free\\n' "$gpu"
  fi
done
printf 'KEEL_END\\n'
`;
