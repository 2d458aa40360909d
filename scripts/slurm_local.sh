#!/bin/sh
# A real single-node Slurm on this machine, from Debian's packages, for tests and for trying the
# cluster commands locally. Runs munged, slurmctld and slurmd as plain daemons (no systemd needed).
#
#   sh scripts/slurm_local.sh start    install slurm-wlm and munge if missing, write the config, start
#                                      the daemons, wait until the node is idle (safe to run again)
#   sh scripts/slurm_local.sh stop     cancel remaining jobs, stop the daemons this script started
#   sh scripts/slurm_local.sh status   say whether it runs; sinfo and squeue
#
# State, spool, pid files and logs live in $SLURM_LOCAL_DIR (default /var/lib/anogan-slurm).
# $SLURM_LOCAL_CPUS overrides the node's CPU count (default: this machine's, at least 2, at most 64).
# Accounting is off, so sacct does not work: job states come from squeue/scontrol while a job is
# known to slurmctld (MinJobAge after it ends) and, for good, from the completion log
# $SLURM_LOCAL_DIR/jobcomp.log (one line per finished job or array task, with JobState=...).
set -eu

dir=${SLURM_LOCAL_DIR:-/var/lib/anogan-slurm}
conf=/etc/slurm/slurm.conf
cgroup_conf=/etc/slurm/cgroup.conf
marker='# Written by scripts/slurm_local.sh'
munge_socket=/run/munge/munge.socket.2
wait_idle_s=60

say() { printf 'slurm_local: %s\n' "$*"; }
fail() { printf 'slurm_local: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat >&2 <<EOF
usage: sh scripts/slurm_local.sh start|stop|status
  start   install slurm-wlm and munge if missing, start a one-node Slurm on this machine, wait until idle
  stop    cancel remaining jobs and stop the daemons that start started (packages stay installed)
  status  say whether it runs, with sinfo and squeue
state and logs: \$SLURM_LOCAL_DIR (now $dir)
EOF
  exit 2
}

[ $# = 1 ] || usage
command=$1
case $command in start | stop | status) ;; *) usage ;; esac

# Daemons, their config and /etc/munge need root; status does not.
if [ "$command" != status ] && [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "'$command' needs root and sudo is not installed; run it as root"
  exec sudo env SLURM_LOCAL_DIR="$dir" ${SLURM_LOCAL_CPUS:+SLURM_LOCAL_CPUS="$SLURM_LOCAL_CPUS"} sh "$0" "$@"
fi

# True when the pid in file $1 is alive and its command is $2 (a stale pid may belong to anything).
pid_alive() {
  [ -f "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  # /proc rather than kill -0, which fails for someone else's process when not root.
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

munge_works() { command -v munge >/dev/null 2>&1 && munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

node_name() { hostname -s 2>/dev/null || uname -n | cut -d. -f1; }

node_state() { sinfo -h -n "$(node_name)" -o %t 2>/dev/null | head -n 1; }

running() {
  pid_alive "$dir/slurmctld.pid" slurmctld && pid_alive "$dir/slurmd.pid" slurmd
}

# Sends TERM to the daemon in pid file $1 (command $2), waits up to 15 s, then KILL.
stop_daemon() {
  if ! pid_alive "$1" "$2"; then
    rm -f "$1"
    return 0
  fi
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.5; i=$((i + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    say "$2 (pid $pid) did not stop after 15 s: killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
  say "stopped $2 (pid $pid)"
}

do_status() {
  if running && [ -f "$conf" ] && grep -qF "$marker" "$conf"; then
    say "running: slurmctld (pid $(cat "$dir/slurmctld.pid")), slurmd (pid $(cat "$dir/slurmd.pid")), state in $dir"
    sinfo
    squeue
  else
    say "not running (no live slurmctld and slurmd with pid files in $dir)"
    return 1
  fi
}

do_stop() {
  if pid_alive "$dir/slurmctld.pid" slurmctld; then
    # Jobs left running would outlive slurmd as orphaned slurmstepd processes.
    jobs=$(squeue -h -t running,pending,suspended,configuring -o %A 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs% }" ]; then
      say "cancelling jobs: $jobs"
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      i=0
      while [ -n "$(squeue -h -t running,completing -o %A 2>/dev/null)" ] && [ $i -lt 20 ]; do
        sleep 0.5
        i=$((i + 1))
      done
    fi
  fi
  stop_daemon "$dir/slurmd.pid" slurmd
  stop_daemon "$dir/slurmctld.pid" slurmctld
  # Only a munged this script started: another one may serve other software on this machine.
  if [ -f "$dir/munged.started" ]; then
    stop_daemon /run/munge/munged.pid munged
    rm -f "$dir/munged.started"
  fi
  say "stopped (packages, config in $conf and state in $dir stay)"
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
has_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

install_packages() {
  missing=
  for pkg in slurm-wlm munge; do has_pkg "$pkg" || missing="$missing $pkg"; done
  if [ -n "$missing" ]; then
    say "installing$missing"
    # shellcheck disable=SC2086
    apt_install $missing
  fi
}

start_munge() {
  if munge_works; then
    say "munged already running"
    return 0
  fi
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating a munge key in /etc/munge/munge.key"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
    fi
  fi
  # munged refuses to start unless its key and directories belong to it and are not open to others.
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 0700 /etc/munge
  chmod 0400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  chmod 0755 /run/munge
  if command -v runuser >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
  else
    su -s /bin/sh munge -c /usr/sbin/munged
  fi
  touch "$dir/munged.started"
  i=0
  until munge_works; do
    i=$((i + 1))
    [ $i -lt 20 ] || { tail -n 20 /var/log/munge/munged.log >&2 || true; fail "munged did not answer on $munge_socket within 10 s (its log is above)"; }
    sleep 0.5
  done
  say "started munged (pid $(cat /run/munge/munged.pid 2>/dev/null || echo '?'))"
}

# Refuses to replace a config that someone else wrote: it may describe a real cluster.
check_ours() {
  if [ -e "$1" ] && ! grep -qF "$marker" "$1"; then
    fail "$1 exists and was not written by this script; move it away (or use that cluster) and run start again"
  fi
}

write_config() {
  node=$(node_name)
  [ -n "$node" ] || fail "could not read this machine's hostname (hostname -s / uname -n)"
  cpus=${SLURM_LOCAL_CPUS:-$(nproc 2>/dev/null || echo 2)}
  case $cpus in '' | *[!0-9]*) fail "SLURM_LOCAL_CPUS must be a whole number, got '$cpus'" ;; esac
  [ "$cpus" -ge 2 ] || cpus=2
  [ "$cpus" -le 64 ] || cpus=64
  mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
  [ -n "$mem_mb" ] && [ "$mem_mb" -gt 0 ] || mem_mb=1024
  if getent hosts "$node" >/dev/null 2>&1; then resolves=yes; else resolves=no; fi
  mkdir -p /etc/slurm
  tmp="$conf.tmp.$$"
  cat >"$tmp" <<EOF
$marker for a one-node test cluster on this machine.
# It is rewritten by every 'start'; stop it with: sh scripts/slurm_local.sh stop
# Host $node (resolves locally: $resolves); $cpus CPUs, $mem_mb MB.
ClusterName=anogan-local
# Loopback for both daemons: the cluster is this machine, so it works whatever the hostname resolves to.
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# No cgroups: containers and machines without systemd often cannot delegate them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Without accounting, this file is the lasting record of how each job (and array task) ended.
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# A job whose dependency can never be met (afterok on a failed job) is cancelled, not left pending.
DependencyParameters=kill_invalid_depend
# No mail on this machine; Slurm's default mailer may not be installed.
MailProg=/bin/true
# The node comes back idle after a restart instead of staying down.
ReturnToService=2
# Trust the CPUs and memory below: a one-CPU machine still gets two job slots.
SlurmdParameters=config_overrides
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
# Finished jobs stay visible to squeue/scontrol for about a minute, then are purged.
MinJobAge=60
StateSaveLocation=$dir/slurmctld
SlurmdSpoolDir=$dir/slurmd
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  chmod 0644 "$tmp"
  mv "$tmp" "$conf"
  # slurmd 22.05 always loads a cgroup plugin at start, even when no other plugin uses cgroups.
  # Autodetect picks cgroup/v2 on a cgroup-v2 host, which needs systemd (or a writable
  # /sys/fs/cgroup) to start; cgroup/v1 loads without touching cgroups, and nothing here uses them.
  cat >"$tmp" <<EOF
$marker for a one-node test cluster on this machine.
CgroupPlugin=cgroup/v1
EOF
  chmod 0644 "$tmp"
  mv "$tmp" "$cgroup_conf"
}

log_tails() {
  for log in "$dir/slurmctld.log" "$dir/slurmd.log"; do
    printf -- '--- last lines of %s\n' "$log" >&2
    tail -n 20 "$log" >&2 2>/dev/null || echo '(no log)' >&2
  done
}

do_start() {
  if running && [ -f "$conf" ] && grep -qF "$marker" "$conf" && scontrol ping >/dev/null 2>&1; then
    say "already running (node $(node_name): $(node_state)); stop it with: sh scripts/slurm_local.sh stop"
    return 0
  fi
  started_at=$(date +%s)
  check_ours "$conf"
  check_ours "$cgroup_conf"
  install_packages
  mkdir -p "$dir/slurmctld" "$dir/slurmd"
  chmod 0755 "$dir"
  start_munge
  write_config
  if ! pid_alive "$dir/slurmctld.pid" slurmctld; then
    slurmctld || { log_tails; fail "slurmctld did not start (its log is above)"; }
  fi
  if ! pid_alive "$dir/slurmd.pid" slurmd; then
    slurmd || { log_tails; fail "slurmd did not start (its log is above)"; }
  fi
  i=0
  state=$(node_state)
  while [ "$state" != idle ] && [ "$state" != mix ] && [ "$state" != alloc ]; do
    i=$((i + 1))
    if [ $i -gt $((wait_idle_s * 2)) ]; then
      log_tails
      fail "node $(node_name) not idle after $wait_idle_s s (sinfo says '${state:-nothing}'); logs are above; 'sh scripts/slurm_local.sh stop' stops what did start"
    fi
    sleep 0.5
    state=$(node_state)
  done
  say "running in $(($(date +%s) - started_at)) s: slurmctld, slurmd and munged on $(node_name), partition 'local' ($(sinfo -h -o %C | cut -d/ -f4) CPUs), state and logs in $dir; stop with: sh scripts/slurm_local.sh stop"
}

case $command in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
esac
