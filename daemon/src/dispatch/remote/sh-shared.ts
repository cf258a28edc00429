/**
 * Bash helpers shared by Keel's job scripts, pasted into each script so that every file
 * shipped to a host stands alone. The bash is embedded in template literals: read `\${` as `${` and `\\` as `\`.
 */

/** proc_stat and boot_id: tell one process from a later one with the same pid. */
export const PROC_SH = `# ---- shared: processes and boots (same text in every Keel job script) ----

# proc_stat PID: sets STAT_STATE, STAT_PPID, STAT_PGID and STAT_START (field 22, clock
# ticks after boot) from /proc/PID/stat; fails when there is no such process. Field 2 is
# "(comm)" and comm may hold spaces, ')' and newlines, so fields are counted from after the
# LAST ") " — every field after comm is a number or a state letter.
proc_stat() {
  local line rest
  local -a f
  line=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=\${line##*) }
  read -r -a f <<< "$rest"
  # shellcheck disable=SC2034  # not every script reads all four
  STAT_STATE=\${f[0]:-} STAT_PPID=\${f[1]:-} STAT_PGID=\${f[2]:-} STAT_START=\${f[19]:-}
  [ -n "$STAT_START" ]
}

# boot_id: this boot's id; a pid from an earlier boot is someone else's. Tests fake a
# reboot by pointing KEEL_BOOT_ID_FILE at a file of their own.
boot_id() { cat "\${KEEL_BOOT_ID_FILE:-/proc/sys/kernel/random/boot_id}" 2>/dev/null; }
# ---- end shared ----
`;

/** say: one marker line (every script that answers the daemon). */
export const SAY_SH = `# say WORDS…: one marker line. The daemon reads only lines that start with KEEL_, so login
# banners and .bashrc chatter around them do no harm.
say() { printf 'KEEL_%s\\n' "$*"; }
`;

/** say, check_identity, file_age and job_state: what state a job directory is in. */
export const STATE_SH = `# ---- shared: job state (same text in start.sh, probe.sh and cancel.sh) ----
${SAY_SH}

# check_identity FILE: FILE holds "pid pgid boot_id starttime". Sets ID_PID and ID_PGID,
# and ID_LOST to '' when that very process still runs, else to why it does not.
check_identity() {
  local pid='' pgid='' boot='' start=''
  { read -r pid pgid boot start < "$1"; } 2>/dev/null
  # shellcheck disable=SC2034  # only cancel.sh reads ID_PGID
  ID_PID=$pid ID_PGID=$pgid ID_LOST=''
  if ! [[ $pid =~ ^[0-9]+$ && $pgid =~ ^[0-9]+$ && $start =~ ^[0-9]+$ ]]; then
    ID_LOST="unreadable \${1##*/} file"
  elif [ "$boot" != "$(boot_id)" ]; then
    ID_LOST='boot id changed'
  elif ! proc_stat "$pid" || [ "$STAT_STATE" = Z ] || [ "$STAT_STATE" = X ]; then
    ID_LOST='pid gone'
  elif [ "$STAT_START" != "$start" ]; then
    ID_LOST='start time mismatch'
  fi
}

# file_age FILE: seconds since FILE was last modified.
file_age() {
  local mtime
  mtime=$(stat -c %Y -- "$1" 2>/dev/null) || return 1
  echo $(( $(date +%s) - mtime ))
}

# job_state: the state of the job in the current directory, in JOB_STATE:
#   "finished CODE" | "running PID" | "lost WHY" | "starting" | "new"
# A wrapper writes state/exit_code and then exits, so exit_code is checked again after a
# dead pid: a job that ends between the two checks is finished, not lost.
job_state() {
  if [ -f state/exit_code ]; then
    JOB_STATE="finished $(cat state/exit_code)"
  elif [ -f state/pid ]; then
    check_identity state/pid
    if [ -z "$ID_LOST" ]; then
      JOB_STATE="running $ID_PID"
    elif [ -f state/exit_code ]; then
      JOB_STATE="finished $(cat state/exit_code)"
    else
      JOB_STATE="lost $ID_LOST"
    fi
  elif [ -f state/launched ]; then
    launched_state
  else
    JOB_STATE=new
  fi
}

# launched_state: start.sh launched a wrapper that has not written state/pid yet. While
# that very process lives it is starting, however slow (a loaded NFS home); once it is
# gone without a pid it is lost. state/launched holds its identity ("pid pgid boot_id
# starttime"); an older start.sh wrote only a time, and then a minute is the limit.
launched_state() {
  local age words
  read -r -a words < state/launched 2>/dev/null || words=()
  if [ "\${#words[@]}" -ge 4 ]; then
    check_identity state/launched
    if [ -z "$ID_LOST" ]; then JOB_STATE=starting
    elif [ -f state/pid ] || [ -f state/exit_code ]; then job_state
    else JOB_STATE='lost the wrapper ended before writing state/pid'; fi
    return
  fi
  age=$(file_age state/launched) || age=0
  if [ "$age" -lt 60 ]; then JOB_STATE=starting; else JOB_STATE='lost no pid 60 s after launch'; fi
}

# end_before_start: a job cancelled before it started ends here, with 143, so no later
# start.sh runs it. Call under state/start.lock.
end_before_start() {
  printf 'cancel\\n' > state/stop_reason
  printf 'cancelled before start\\n' > state/error
  date -u +%Y-%m-%dT%H:%M:%S.%3NZ > state/ended_at
  printf '143\\n' > state/exit_code.tmp && mv -f state/exit_code.tmp state/exit_code
}
# ---- end shared ----
`;
