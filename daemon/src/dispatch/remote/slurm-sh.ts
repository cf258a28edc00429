/**
 * slurm.sh: Keel's side of a Slurm login node — the host check, the idempotent submit, the
 * batched poll and the cancel. The bash is embedded in a template literal: read `\${` as `${`
 * and `\\` as `\`.
 */
import { SAY_SH } from './sh-shared.ts';

export const SLURM_SH = `#!/usr/bin/env bash
# Keel: slurm.sh ACTION … — run on a Slurm login node (job dirs on the shared filesystem).
#
#   slurm.sh check
#       KEEL_VERSION TEXT (sinfo --version), KEEL_PARTITION NAME|GRES|AVAIL|NODES|STATE|TIMELIMIT…,
#       KEEL_NODE NAME|STATE|GRES|PARTITION…, KEEL_SACCT ok | no TEXT (no slurmdbd: sacct
#       unusable), KEEL_QUEUE ID|NAME|STATE|REASON|TIME… (this user's jobs);
#       KEEL_ERROR TEXT when this is not a Slurm login node.
#   slurm.sh submit JOBDIR NAME [SBATCH_OPTION…]
#       Idempotent, under JOBDIR/state/start.lock: a job dir with state/cancel is never
#       submitted (it ends here with 143); a job already submitted — its id in
#       state/slurm_job_id, or a job of this user named NAME in squeue (all states) or sacct —
#       is reported, never submitted twice. Otherwise
#       \`sbatch --parsable --job-name=NAME --chdir=JOBDIR --output=JOBDIR/logs/wrapper.log
#       --open-mode=append SBATCH_OPTION… JOBDIR/run.sh JOBDIR\`; the id (sbatch's last line,
#       before any ';cluster') goes to state/slurm_job_id at once.
#       KEEL_SUBMIT submitted ID | found ID | cancelled | error TEXT
#   slurm.sh submit-array SWEEPDIR NAME COUNT MAXPARALLEL JOBDIR×COUNT [SBATCH_OPTION…]
#       A sweep as one job array, idempotent under SWEEPDIR/start.lock like submit: the array
#       already submitted — its id in SWEEPDIR/slurm_job_id, or a job of this user named NAME in
#       squeue or sacct — is reported, never submitted twice. Otherwise writes SWEEPDIR/tasks
#       (task i runs the i-th JOBDIR) and \`sbatch --parsable --job-name=NAME
#       --array=0-(COUNT-1)[%MAXPARALLEL] --output=SWEEPDIR/task-%a.log SBATCH_OPTION… slurm.sh
#       array-task SWEEPDIR\`. Each task's id (ID_i) goes to its job dir's state/slurm_job_id,
#       under that dir's start lock (so a cancel of one run finds it, or finds nothing and its
#       state/cancel stops the task). MAXPARALLEL 0: no limit.
#       A sweep cancelled before its array was submitted (SWEEPDIR/cancel) is never submitted.
#       KEEL_SUBMIT submitted ID | found ID | cancelled | error TEXT, then KEEL_TASK I JOBDIR per task.
#   slurm.sh array-task SWEEPDIR   (the batch script of a sweep's array, run by Slurm)
#       Runs JOBDIR/run.sh for task SLURM_ARRAY_TASK_ID, its output appended to JOBDIR/logs/wrapper.log.
#   slurm.sh cancel-array SWEEPDIR NAME [ID]
#       Marks SWEEPDIR/cancel (its array is then never submitted) and state/cancel in every
#       task's job dir, then scancels the whole array.
#       KEEL_CANCEL scancel ID | never-started | error TEXT
#   slurm.sh poll [JOBID…] -- [JOBDIR…]
#       One squeue (this user's jobs, all states, one line per array task) and, for the ids given, one sacct -X:
#       KEEL_SQ ID|STATE|REASON…, KEEL_POS ID|POSITION|PENDING|PARTITION for each pending job of
#       ours (its place among the partition's pending jobs by priority), KEEL_SACCT ok | no TEXT,
#       KEEL_SA ID|STATE|EXITCODE|ELAPSEDRAW|ALLOCTRES…;
#       then each JOBDIR as probe.sh reports it (exit_code, log size, cancel mark…; see probe_dirs).
#   slurm.sh cancel JOBDIR NAME [JOBID]
#       Marks state/cancel (submit then never submits it) and, under the start lock,
#       scancels the job (by the id given, in state/slurm_job_id, or found by NAME).
#       KEEL_CANCEL scancel ID | never-started | error TEXT
# Every answer ends with KEEL_END.

set -u
umask 077  # job folders hold job.env and outputs: private to the user
${SAY_SH}
# one_line: stdin as one line (newlines to spaces), at most 500 characters.
one_line() { tr '\\n\\r' '  ' | cut -c1-500; }

# name_lookup NAME: the id of this user's job named NAME, from squeue (all states, kept for
# MinJobAge after it ends) or sacct (last 7 days); empty when neither knows it. For a job
# array (whose tasks both list as ID_I), the array's ID.
name_lookup() {
  local id
  id=$(squeue --me -h -t all -n "$1" -o %i 2>/dev/null | head -n1)
  [ -n "$id" ] || id=$(sacct -X -n -P -S now-7days --name "$1" -o JobID 2>/dev/null | head -n1)
  id=\${id%%;*}
  printf '%s' "\${id%%_*}"
}

check() {
  if ! command -v sinfo >/dev/null 2>&1 || ! command -v sbatch >/dev/null 2>&1; then
    say ERROR "sinfo/sbatch not found on PATH: this is not a Slurm login node (or its PATH lacks Slurm's commands)"
    say END; exit 0
  fi
  local out line
  say VERSION "$(sinfo --version 2>&1 | one_line)"
  if ! out=$(sinfo -h -o '%P|%G|%a|%D|%T|%l' 2>&1); then say ERROR "sinfo failed: $(one_line <<< "$out")"; say END; exit 0; fi
  while IFS= read -r line; do [ -n "$line" ] && say PARTITION "$line"; done <<< "$out"
  while IFS= read -r line; do [ -n "$line" ] && say NODE "$line"; done < <(sinfo -h -N -o '%N|%T|%G|%P' 2>/dev/null)
  if out=$(sacct -X -n -P -S now-1hours -o JobID 2>&1); then say SACCT ok; else say SACCT no "$(one_line <<< "$out")"; fi
  while IFS= read -r line; do [ -n "$line" ] && say QUEUE "$line"; done < <(squeue --me -h -o '%i|%j|%T|%r|%M' 2>/dev/null)
  say END
}

submit() {
  local jobdir=\${1:?usage: slurm.sh submit JOBDIR NAME [OPTION…]} name=\${2:?usage: slurm.sh submit JOBDIR NAME [OPTION…]}
  shift 2
  fail() { say SUBMIT error "$*"; say END; exit 0; }
  cd -- "$jobdir" 2>/dev/null || fail "no job directory $jobdir"
  jobdir=$PWD
  mkdir -p state logs || fail "cannot create state/ and logs/ in $jobdir"
  local lock id out
  exec {lock}>>state/start.lock || fail "cannot open state/start.lock"
  flock -w 60 "$lock" || fail "state/start.lock is held by another submit or cancel"
  if [ -s state/slurm_job_id ]; then
    read -r id < state/slurm_job_id
    say SUBMIT found "$id"; say END; exit 0
  fi
  if [ -e state/cancel ]; then
    if [ ! -e state/exit_code ]; then
      printf 'cancel\\n' > state/stop_reason
      printf 'cancelled before it was submitted\\n' > state/error
      printf '143\\n' > state/exit_code.tmp && mv -f state/exit_code.tmp state/exit_code
    fi
    say SUBMIT cancelled; say END; exit 0
  fi
  id=$(name_lookup "$name")
  if [ -n "$id" ]; then
    printf '%s\\n' "$id" > state/slurm_job_id.tmp && mv -f state/slurm_job_id.tmp state/slurm_job_id
    say SUBMIT found "$id"; say END; exit 0
  fi
  [ -f run.sh ] || fail "no run.sh in $jobdir"
  [ -f job.env ] || fail "no job.env in $jobdir"
  if ! out=$(sbatch --parsable --job-name="$name" --chdir="$jobdir" --output="$jobdir/logs/wrapper.log" --open-mode=append "$@" {lock}>&- "$jobdir/run.sh" "$jobdir" 2>&1); then
    fail "sbatch: $(one_line <<< "$out")"
  fi
  id=$(printf '%s\\n' "$out" | tail -n1)
  id=\${id%%;*}
  [[ $id =~ ^[0-9]+(_[0-9]+)?$ ]] || fail "sbatch gave no job id: $(one_line <<< "$out")"
  printf '%s\\n' "$id" > state/slurm_job_id.tmp && mv -f state/slurm_job_id.tmp state/slurm_job_id
  say SUBMIT submitted "$id"
  say END
}

submit_array() {
  local usage='usage: slurm.sh submit-array SWEEPDIR NAME COUNT MAXPARALLEL JOBDIR… [OPTION…]'
  local sweep=\${1:?$usage} name=\${2:?$usage} count=\${3:?$usage} maxpar=\${4:?$usage}
  shift 4
  fail() { say SUBMIT error "$*"; say END; exit 0; }
  [[ $count =~ ^[1-9][0-9]{0,3}$ && $maxpar =~ ^[0-9]{1,4}$ ]] || fail "COUNT and MAXPARALLEL must be numbers"
  [ $# -ge "$count" ] || fail "$count job directories expected"
  local -a dirs=("\${@:1:count}")
  shift "$count"
  local d i id out lock dlock range
  for d in "\${dirs[@]}"; do
    [[ $d == */* && $d != *$'\\n'* ]] || fail "not a job directory: $d"
  done
  mkdir -p -- "$sweep" || fail "cannot create the sweep directory $sweep"
  cd -- "$sweep" || fail "cannot enter the sweep directory $sweep"
  sweep=$PWD
  exec {lock}>>start.lock || fail "cannot open $sweep/start.lock"
  flock -w 60 "$lock" || fail "$sweep/start.lock is held by another submit or cancel"
  id=''
  [ -s slurm_job_id ] && read -r id < slurm_job_id
  [ -n "$id" ] || id=$(name_lookup "$name")
  if [ -z "$id" ] && [ -e cancel ]; then say SUBMIT cancelled; say END; exit 0; fi
  if [ -n "$id" ]; then
    printf '%s\\n' "$id" > slurm_job_id.tmp && mv -f slurm_job_id.tmp slurm_job_id
    say SUBMIT found "$id"
  else
    for d in "\${dirs[@]}"; do
      if [ ! -f "$d/run.sh" ] || [ ! -f "$d/job.env" ]; then fail "no run.sh and job.env in $d"; fi
    done
    if ! { printf '%s\\n' "\${dirs[@]}" > tasks.tmp && mv -f tasks.tmp tasks; }; then fail "cannot write $sweep/tasks"; fi
    range=0-$((count - 1))
    [ "$maxpar" -gt 0 ] && range+="%$maxpar"
    if ! out=$(sbatch --parsable --job-name="$name" --array="$range" --chdir="$sweep" --output="$sweep/task-%a.log" --open-mode=append "$@" {lock}>&- "$0" array-task "$sweep" 2>&1); then
      fail "sbatch: $(one_line <<< "$out")"
    fi
    id=$(printf '%s\\n' "$out" | tail -n1)
    id=\${id%%;*}
    [[ $id =~ ^[0-9]+$ ]] || fail "sbatch gave no job array id: $(one_line <<< "$out")"
    printf '%s\\n' "$id" > slurm_job_id.tmp && mv -f slurm_job_id.tmp slurm_job_id
    say SUBMIT submitted "$id"
  fi
  [ -f tasks ] || fail "job array $id has no task list in $sweep"
  i=0
  while IFS= read -r d; do
    if mkdir -p -- "$d/state" 2>/dev/null && exec {dlock}>>"$d/state/start.lock"; then
      flock -w 60 "$dlock"
      [ -s "$d/state/slurm_job_id" ] || { printf '%s\\n' "\${id}_$i" > "$d/state/slurm_job_id.tmp" && mv -f -- "$d/state/slurm_job_id.tmp" "$d/state/slurm_job_id"; }
      exec {dlock}>&-
    fi
    say TASK "$i" "$d"
    i=$((i + 1))
  done < tasks
  say END
}

array_task() {
  local sweep=\${1:?usage: slurm.sh array-task SWEEPDIR} task=\${SLURM_ARRAY_TASK_ID:?not a Slurm array task} jobdir='' d i=0
  while IFS= read -r d; do
    if [ "$i" = "$task" ]; then jobdir=$d; break; fi
    i=$((i + 1))
  done < "$sweep/tasks"
  if [ -z "$jobdir" ] || ! cd -- "$jobdir"; then echo "keel slurm.sh: no job directory for task $task in $sweep/tasks" >&2; exit 78; fi
  mkdir -p logs && exec >> logs/wrapper.log 2>&1
  exec bash "$jobdir/run.sh" "$jobdir"
}

cancel_array() {
  local usage='usage: slurm.sh cancel-array SWEEPDIR NAME [ID]'
  local sweep=\${1:?$usage} name=\${2:?$usage} id=\${3:-} d lock out
  mkdir -p -- "$sweep" 2>/dev/null && touch -- "$sweep/cancel"
  cd -- "$sweep" 2>/dev/null || { say CANCEL error "no sweep directory $sweep"; say END; exit 0; }
  exec {lock}>>start.lock && flock -w 60 "$lock"
  if [ -f tasks ]; then
    while IFS= read -r d; do mkdir -p -- "$d/state" 2>/dev/null && touch -- "$d/state/cancel"; done < tasks
  fi
  [ -n "$id" ] || { [ -s slurm_job_id ] && read -r id < slurm_job_id; }
  [ -n "$id" ] || id=$(name_lookup "$name")
  if [ -z "$id" ]; then say CANCEL never-started; say END; exit 0; fi
  if out=$(scancel "$id" 2>&1); then say CANCEL scancel "$id"; else say CANCEL error "scancel $id: $(one_line <<< "$out")"; fi
  say END
}

poll() {
  local line out joined
  local -a ids=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do ids+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  if out=$(squeue --me -r -h -t all -o '%i|%T|%r' 2>&1); then
    while IFS= read -r line; do [ -n "$line" ] && say SQ "$line"; done <<< "$out"
    say SQUEUE ok
    # Where this user's pending jobs stand: every pending job of the cluster in priority order
    # (ties by id), counted per partition; only ours are reported.
    if [[ $out == *'|PENDING|'* ]]; then
      while IFS= read -r line; do [ -n "$line" ] && say POS "$line"; done < <(squeue -h -r -t PD --sort=-p,i -o '%i|%P|%u' 2>/dev/null | awk -F'|' -v me="$(id -un)" '
        { n[$2]++; if ($3 == me) { pos[$1] = n[$2]; part[$1] = $2 } }
        END { for (id in pos) print id "|" pos[id] "|" n[part[id]] "|" part[id] }')
    fi
  else
    say SQUEUE no "$(one_line <<< "$out")"
  fi
  if [ \${#ids[@]} -gt 0 ]; then
    joined=$(IFS=,; printf '%s' "\${ids[*]}")
    if out=$(sacct -X -n -P -j "$joined" -o JobID,State,ExitCode,ElapsedRaw,AllocTRES 2>&1); then
      while IFS= read -r line; do [ -n "$line" ] && say SA "$line"; done <<< "$out"
      say SACCT ok
    else
      say SACCT no "$(one_line <<< "$out")"
    fi
  fi
  probe_dirs "$@"
}

# probe_dirs JOBDIR…: what reconciling a Slurm job needs of its dir, in probe.sh's format but
# without forking per job (a poll of hundreds of jobs stays one quick call): one stat for
# every job's log size and heartbeat age, then bash builtins only. STATE is finished CODE
# (exit_code written), running 0 (the wrapper wrote state/pid: Slurm's word says whether it
# still runs — it may run on another node, so no pid is judged here), new, or missing.
probe_dirs() {
  local d f line code now hb
  local -a files=()
  local -A size=() mtime=()
  now=$(date +%s)
  for d in "$@"; do files+=("$d/logs/output.log" "$d/state/heartbeat"); done
  if [ \${#files[@]} -gt 0 ]; then
    while IFS='|' read -r line hb f; do size[$f]=$line; mtime[$f]=$hb; done < <(stat -c '%s|%Y|%n' -- "\${files[@]}" 2>/dev/null)
  fi
  for d in "$@"; do
    say JOB "\${d//$'\n'/?}"
    if [ ! -d "$d" ]; then say STATE missing; continue; fi
    code=''
    if [ -f "$d/state/exit_code" ] && { read -r code < "$d/state/exit_code" || [ -n "$code" ]; } && [[ $code =~ ^[0-9]+$ ]]; then say STATE finished "$code"
    elif [ -f "$d/state/pid" ]; then say STATE running 0
    else say STATE new; fi
    hb=\${mtime[$d/state/heartbeat]:-}
    if [ -n "$hb" ]; then say HEARTBEAT $((now - hb)); else say HEARTBEAT none; fi
    say LOG_SIZE "\${size[$d/logs/output.log]:-0}"
    if [ -e "$d/state/cancel" ]; then say CANCEL yes; else say CANCEL no; fi
    for f in stop_reason error; do
      [ -f "$d/state/$f" ] || continue
      line=''
      IFS= read -r line < "$d/state/$f"
      if [ "$f" = stop_reason ]; then say STOP_REASON "$line"; else say ERROR "$line"; fi
    done
  done
  say END
}

cancel() {
  local jobdir=\${1:?usage: slurm.sh cancel JOBDIR NAME [JOBID]} name=\${2:?usage: slurm.sh cancel JOBDIR NAME [JOBID]} id=\${3:-} lock out
  mkdir -p -- "$jobdir/state" 2>/dev/null && touch -- "$jobdir/state/cancel"
  cd -- "$jobdir" 2>/dev/null || { say CANCEL error "no job directory $jobdir"; say END; exit 0; }
  # After a submit in progress (then there is an id to cancel); a stuck lock must not stop a cancel.
  exec {lock}>>state/start.lock && flock -w 60 "$lock"
  [ -n "$id" ] || { [ -s state/slurm_job_id ] && read -r id < state/slurm_job_id; }
  [ -n "$id" ] || id=$(name_lookup "$name")
  if [ -z "$id" ]; then say CANCEL never-started; say END; exit 0; fi
  if out=$(scancel "$id" 2>&1); then say CANCEL scancel "$id"; else say CANCEL error "scancel $id: $(one_line <<< "$out")"; fi
  say END
}

action=\${1:-}
[ $# -gt 0 ] && shift
case $action in
  check) check ;;
  submit) submit "$@" ;;
  poll) poll "$@" ;;
  cancel) cancel "$@" ;;
  submit-array) submit_array "$@" ;;
  array-task) array_task "$@" ;;
  cancel-array) cancel_array "$@" ;;
  *) say ERROR "usage: slurm.sh check | submit JOBDIR NAME [OPTION…] | submit-array SWEEPDIR NAME COUNT MAXPARALLEL JOBDIR… [OPTION…] | poll [ID…] -- [JOBDIR…] | cancel JOBDIR NAME [ID] | cancel-array SWEEPDIR NAME [ID]"; say END ;;
esac
`;
