#!/usr/bin/env bash
# Keel test support: this project's own copy of the reference recipe the Keel team checked on
# a Debian 12 machine (shared/tools/slurm/slurm-up.sh), kept here so that a clone runs its tests alone.
# Changes from the reference: none in behaviour; test/support/slurm-cluster.ts drives it.
# slurm-up.sh - bring up a real one-node Slurm 22.05 cluster (Debian 12) on localhost.
#
#   * munged, MariaDB (private datadir), slurmdbd, slurmctld, slurmd, private sshd
#   * node = this host, 4 fake GPUs (gres.conf File=<BASE>/dev/gpu[0-3]), select/cons_tres
#   * user "slurmtest" reachable with a key over sshd on 127.0.0.1:<random port>
#   * everything (configs, state, logs, pid files) lives under $BASE (set SLURM_BASE; default /tmp/keel-slurm)
#
# Idempotent: installs packages only if missing, keeps chosen ports/passwords/keys/state,
# starts only daemons that are not already running, waits until the node is idle.
# Env knobs: SLURM_BASE (dir), PROCTRACK (auto|cgroup|linuxproc|pgid; auto = cgroup if the v1
#            freezer hierarchy is mounted, else linuxproc),
#            NGPUS (4), NCPUS (8, advertised - see SlurmdParameters=config_overrides),
#            SLURM_TEST_USER (slurmtest), NO_DBD=1 (no slurmdbd/MariaDB; sacct then unusable),
#            SCHED_MIN_INTERVAL_US (100000; Slurm default 2000000)
set -euo pipefail

BASE=$(realpath -m "${SLURM_BASE:-/tmp/keel-slurm}")   # absolute: sshd re-execs itself with -f <path>
PROCTRACK=${PROCTRACK:-auto}
if [ "$PROCTRACK" = auto ]; then
  # proctrack/cgroup works here with the cgroup v1 freezer hierarchy (no systemd needed);
  # Slurm 22.05's cgroup/v2 plugin needs systemd/dbus, so fall back to linuxproc otherwise
  if grep -qE '^cgroup /sys/fs/cgroup/freezer cgroup ' /proc/mounts; then PROCTRACK=cgroup; else PROCTRACK=linuxproc; fi
fi
NGPUS=${NGPUS:-4}
NCPUS=${NCPUS:-8}
TUSER=${SLURM_TEST_USER:-slurmtest}
NO_DBD=${NO_DBD:-0}
SCHED_MIN_INTERVAL_US=${SCHED_MIN_INTERVAL_US:-100000}
CLUSTER=keeltest
HOST=$(hostname -s)
ETC=$BASE/etc; LOG=$BASE/log; RUN=$BASE/run; STATE=$BASE/state
export SLURM_CONF=$ETC/slurm.conf

T0=$(date +%s%N)
ts() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[%3d.%03ds] %s\n' $((ms/1000)) $((ms%1000)) "$*"; }
die() { echo "slurm-up: ERROR: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"

# ---------------------------------------------------------------- 1. packages
PKGS=(munge slurm-wlm slurm-client slurmd slurmctld openssh-server openssh-client)
[ "$NO_DBD" = 1 ] || PKGS+=(slurmdbd mariadb-server mariadb-client)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # keep package postinst scripts from starting system-wide munge/slurm/mariadb services
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_i() { apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"; }
  apt_i || { apt-get -o DPkg::Lock::Timeout=600 update && apt_i; } || { [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; die "apt-get install failed"; }
  [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  ts "packages installed"
fi
T0=$(date +%s%N)   # bring-up timer starts after install

# ---------------------------------------------------------------- 2. users, dirs, persistent choices
id "$TUSER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$TUSER"
# useradd leaves the password field as '!' = "locked"; with UsePAM no sshd refuses locked
# accounts even for key auth.  '*' = no password but not locked.
[ "$(getent shadow "$TUSER" | cut -d: -f2)" = '*' ] || usermod -p '*' "$TUSER"

mkdir -p "$ETC" "$LOG" "$RUN" "$STATE/ctld" "$STATE/d" "$BASE/munge" "$BASE/ssh/authorized_keys" \
         "$BASE/dev" "$BASE/shared"
chmod 755 "$BASE" "$ETC" "$LOG" "$RUN"
chown munge:munge "$BASE/munge"; chmod 755 "$BASE/munge"
chown "$TUSER:$TUSER" "$BASE/shared"; chmod 1777 "$BASE/shared"
# fake GPU device files: slurmd wants character/block devices (plain files -> "not a valid
# character or block device" and no CUDA_VISIBLE_DEVICES); clones of /dev/null (c 1 3) work.
for i in $(seq 0 $((NGPUS-1))); do
  [ -c "$BASE/dev/gpu$i" ] || { rm -f "$BASE/dev/gpu$i"; mknod -m 666 "$BASE/dev/gpu$i" c 1 3; }
done

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
pick_port() { local p; while :; do p=$(shuf -i 20000-60999 -n1); port_free "$p" && ! grep -qw "$p" "$BASE/ports.env" 2>/dev/null && { echo "$p"; return; }; done; }
if [ ! -s "$BASE/ports.env" ]; then
  : > "$BASE/ports.env"
  for v in SSH_PORT CTLD_PORT SLURMD_PORT DBD_PORT MYSQL_PORT; do echo "$v=$(pick_port)" >> "$BASE/ports.env"; done
fi
# shellcheck disable=SC1091
. "$BASE/ports.env"
[ -s "$ETC/dbpass" ] || { (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$ETC/dbpass"); }
DBPASS=$(cat "$ETC/dbpass")

# ---------------------------------------------------------------- 3. configs
CHANGED=""
write_if_changed() { # path mode  (content on stdin)
  local tmp; tmp=$(mktemp); cat > "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; CHANGED="$CHANGED $1"; fi
  chmod "$2" "$1"
}

if [ "$NO_DBD" = 1 ]; then
  ACCT="AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.txt"
else
  ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# munge socket used for connections to slurmdbd (AuthInfo is NOT used for those)
AccountingStoragePass=$BASE/munge/munge.socket
AccountingStorageTRES=gres/gpu
JobCompType=jobcomp/none"
fi

write_if_changed "$ETC/slurm.conf" 644 <<EOF
# generated by slurm-up.sh
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$BASE/munge/munge.socket
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/$PROCTRACK
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
# Slurm defaults (batch_sched_delay=3 s, sched_min_interval=2 s) gave ~1.9 s sbatch->RUNNING
# here; with these values it is ~0.1 s on an idle node, <=1 s right after another job ended
SchedulerParameters=batch_sched_delay=0,sched_min_interval=$SCHED_MIN_INTERVAL_US
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
GresTypes=gpu
# advertise the CPUs/memory written below even if the VM has fewer
SlurmdParameters=config_overrides
$ACCT
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
MinJobAge=300
KillWait=5
InactiveLimit=0
Waittime=0
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NCPUS RealMemory=16000 Gres=gpu:$NGPUS State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

write_if_changed "$ETC/gres.conf" 644 <<EOF
# fake GPUs: /dev/null clones (c 1 3), only used for scheduling + CUDA_VISIBLE_DEVICES
AutoDetect=off
NodeName=$HOST Name=gpu File=$BASE/dev/gpu[0-$((NGPUS-1))]
EOF

write_if_changed "$ETC/cgroup.conf" 644 <<EOF
CgroupPlugin=autodetect
CgroupAutomount=no
ConstrainCores=no
ConstrainDevices=no
ConstrainRAMSpace=no
EOF

if [ "$NO_DBD" != 1 ]; then
write_if_changed "$ETC/slurmdbd.conf" 600 <<EOF
AuthType=auth/munge
AuthInfo=socket=$BASE/munge/munge.socket
DbdHost=$HOST
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
DebugLevel=info
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$MYSQL_PORT
StorageUser=slurm
StoragePass=$DBPASS
StorageLoc=slurm_acct_db
EOF
fi

echo "export SLURM_CONF=$ETC/slurm.conf" > "$BASE/env.sh"

# ---------------------------------------------------------------- helpers
running() { # pidfile comm
  local pid; [ -s "$1" ] || return 1; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}
wait_for() { # timeout_s description command...
  local t=$1 d=$2; shift 2; local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timeout waiting for $d (logs: $LOG)"; sleep 0.2
  done
}

if [ -n "$CHANGED" ] && running "$RUN/slurmctld.pid" slurmctld; then
  echo "WARNING: changed while Slurm is running:$CHANGED -> run slurm-down.sh then slurm-up.sh to apply" >&2
fi

# ---------------------------------------------------------------- 4. munge
if [ ! -s "$BASE/munge/munge.key" ]; then
  mungekey --create --keyfile="$BASE/munge/munge.key" --force
fi
chown munge:munge "$BASE/munge/munge.key"; chmod 400 "$BASE/munge/munge.key"
if ! running "$BASE/munge/munged.pid" munged; then
  rm -f "$BASE/munge/munge.socket" "$BASE/munge/munge.socket.lock"
  runuser -u munge -- munged --num-threads=4 --socket="$BASE/munge/munge.socket" --key-file="$BASE/munge/munge.key" \
     --log-file="$BASE/munge/munged.log" --pid-file="$BASE/munge/munged.pid" --seed-file="$BASE/munge/munged.seed" \
     </dev/null >/dev/null 2>>"$LOG/munged.err" || die "munged failed: $(cat "$LOG/munged.err")"
  wait_for 20 munged sh -c "munge -S '$BASE/munge/munge.socket' -n | unmunge -S '$BASE/munge/munge.socket'"
  ts "munged started"
fi
ln -sf "$BASE/munge/munged.pid" "$RUN/munged.pid"; ln -sf "$BASE/munge/munged.log" "$LOG/munged.log"

# ---------------------------------------------------------------- 5. MariaDB + slurmdbd
if [ "$NO_DBD" != 1 ]; then
  MY=$BASE/mysql; SOCK=$MY/mysql.sock
  mkdir -p "$MY"; chown mysql:mysql "$MY"
  [ ! -d "$MY/data" ] || [ "$(stat -c %U "$MY/data")" = mysql ] || chown -R mysql:mysql "$MY/data"
  if [ ! -d "$MY/data/mysql" ]; then
    rm -rf "$MY/data"; mkdir -p "$MY/data"; chown mysql:mysql "$MY/data"
    mariadb-install-db --no-defaults --user=mysql --datadir="$MY/data" --auth-root-authentication-method=socket \
      --skip-test-db --innodb-log-file-size=8M --innodb-buffer-pool-size=32M > "$LOG/mariadb-install.log" 2>&1 \
      || die "mariadb-install-db failed, see $LOG/mariadb-install.log"
    ts "mariadb datadir initialised"
  fi
  if ! running "$MY/mariadb.pid" mariadbd; then
    setsid mariadbd --no-defaults --user=mysql --datadir="$MY/data" --socket="$SOCK" --pid-file="$MY/mariadb.pid" \
      --port="$MYSQL_PORT" --bind-address=127.0.0.1 --skip-name-resolve --log-error="$MY/mariadb.log" \
      --innodb-buffer-pool-size=16M --innodb-log-file-size=8M --innodb-lock-wait-timeout=900 \
      --aria-pagecache-buffer-size=8M --key-buffer-size=1M --query-cache-size=0 \
      --performance-schema=OFF --skip-log-bin --max-connections=50 \
      </dev/null >/dev/null 2>&1 &
    wait_for 60 mariadb mariadb-admin --no-defaults -S "$SOCK" -u root ping
    wait_for 10 mariadb-pidfile test -s "$MY/mariadb.pid"
    ts "mariadb started"
  fi
  ln -sf "$MY/mariadb.pid" "$RUN/mariadb.pid"; ln -sf "$MY/mariadb.log" "$LOG/mariadb.log"
  mariadb --no-defaults -S "$SOCK" -u root <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DBPASS';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF
  if ! running "$RUN/slurmdbd.pid" slurmdbd; then
    slurmdbd </dev/null >>"$LOG/slurmdbd.out" 2>&1 || die "slurmdbd failed, see $LOG/slurmdbd.log"
    wait_for 60 slurmdbd sacctmgr -n list cluster
    ts "slurmdbd started"
  fi
  sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
  sacctmgr -n -P list account format=account | grep -qx testacct || \
    sacctmgr -i add account testacct Description=test Organization=test >/dev/null
  sacctmgr -n -P list user format=user | grep -qx "$TUSER" || { sacctmgr -i add user "$TUSER" Account=testacct >/dev/null; ts "cluster/account/user registered in slurmdbd"; }
fi

# ---------------------------------------------------------------- 6. slurmctld + slurmd
if ! running "$RUN/slurmctld.pid" slurmctld; then
  slurmctld </dev/null >>"$LOG/slurmctld.out" 2>&1 || die "slurmctld failed, see $LOG/slurmctld.log"
  wait_for 60 slurmctld sh -c "scontrol ping | grep -q UP"
  ts "slurmctld started"
fi
if ! running "$RUN/slurmd.pid" slurmd; then
  slurmd </dev/null >>"$LOG/slurmd.out" 2>&1 || die "slurmd failed, see $LOG/slurmd.log"
  ts "slurmd started"
fi
node_ready() {
  local st; st=$(sinfo -h -N -n "$HOST" -o '%T' 2>/dev/null)
  # a DRAIN/DOWN state (e.g. left in the saved state by an earlier bad config) survives
  # restarts even with ReturnToService=2 -> resume it
  case "$st" in *drain*|*down*|*inval*|*fail*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 ;; esac
  echo "$st" | grep -Eq '^(idle|mixed|allocated)$'
}
wait_for 60 "node $HOST to become idle" node_ready
ts "node $HOST is $(sinfo -h -N -n "$HOST" -o '%T')"

# ---------------------------------------------------------------- 7. private sshd for $TUSER
SSHD=$BASE/ssh
[ -s "$SSHD/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C slurm-up-host -f "$SSHD/ssh_host_ed25519_key"
[ -s "$SSHD/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C slurm-up-client -f "$SSHD/id_ed25519"
write_if_changed "$SSHD/authorized_keys/$TUSER" 644 < "$SSHD/id_ed25519.pub"
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSHD/ssh_host_ed25519_key.pub")" | write_if_changed "$SSHD/known_hosts" 644
write_if_changed "$SSHD/sshd_config" 644 <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSHD/ssh_host_ed25519_key
PidFile $RUN/sshd.pid
AuthorizedKeysFile $SSHD/authorized_keys/%u
# the keys live under /tmp (mode 1777): StrictModes would reject that path
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers $TUSER
SetEnv SLURM_CONF=$ETC/slurm.conf
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
write_if_changed "$SSHD/config" 644 <<EOF
Host slurm-local
  HostName 127.0.0.1
  Port $SSH_PORT
  User $TUSER
  IdentityFile $SSHD/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $SSHD/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
EOF
mkdir -p /run/sshd; chmod 755 /run/sshd   # privilege separation dir
if ! running "$RUN/sshd.pid" sshd; then
  /usr/sbin/sshd -t -f "$SSHD/sshd_config" || die "bad sshd config"
  /usr/sbin/sshd -f "$SSHD/sshd_config" -E "$LOG/sshd.log"
  wait_for 10 sshd test -s "$RUN/sshd.pid"
  ts "sshd started on 127.0.0.1:$SSH_PORT"
fi
wait_for 20 "ssh login as $TUSER" ssh -F "$SSHD/config" slurm-local true
cat > "$BASE/cluster.env" <<EOF
# source me: how to reach the test cluster
SLURM_CONF=$ETC/slurm.conf
SSH_HOST=127.0.0.1
SSH_PORT=$SSH_PORT
SSH_USER=$TUSER
SSH_KEY=$SSHD/id_ed25519
SSH_KNOWN_HOSTS=$SSHD/known_hosts
SSH_CONFIG=$SSHD/config
SSH_ALIAS=slurm-local
SHARED_DIR=$BASE/shared
PARTITION=debug
NODE=$HOST
EOF
ts "cluster up"

cat <<EOF

Slurm 22.05 one-node cluster '$CLUSTER' is up (node $HOST, $NCPUS CPUs, gpu:$NGPUS fake, partition debug).
  local (root):   source $BASE/env.sh        # export SLURM_CONF=$ETC/slurm.conf
  ssh:            ssh -F $SSHD/config slurm-local 'sinfo'      (machine-readable: $BASE/cluster.env)
     (= ssh -i $SSHD/id_ed25519 -p $SSH_PORT -o UserKnownHostsFile=$SSHD/known_hosts $TUSER@127.0.0.1)
  shared dir:     $BASE/shared   (world-writable, sticky)
  logs:           $LOG/   pid files: $RUN/
  stop:           $BASE/slurm-down.sh   (--purge also wipes state, DB, keys)
EOF
