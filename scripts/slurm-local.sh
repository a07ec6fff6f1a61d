#!/usr/bin/env bash
# Start or stop a single-node Slurm (slurmctld + slurmd on this host) for tests and demos.
#
#   scripts/slurm-local.sh start   # idempotent; prints SLURM_CONF=... and STARTED=1|0
#   scripts/slurm-local.sh stop    # stops the daemons by the PIDs in their pid files
#   scripts/slurm-local.sh status
#
# Needs root (SlurmUser=root, munge key in /etc/munge), Debian's slurm-wlm and munge
# (scripts/setup-system.sh installs them). State, spool, pid and log files live in
# $SLURM_LOCAL_DIR (default /tmp/freqprop-slurm). Then: export SLURM_CONF=$SLURM_LOCAL_DIR/slurm.conf
set -euo pipefail

dir=${SLURM_LOCAL_DIR:-/tmp/freqprop-slurm}
conf=$dir/slurm.conf
cmd=${1:-start}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

need() {
    for b in "$@"; do
        if ! command -v "$b" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$b" ]; then
            echo "slurm-local: '$b' not found (install slurm-wlm and munge: scripts/setup-system.sh)" >&2
            exit 3
        fi
    done
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        return 0
    fi
    if [ ! -f /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        chown munge:munge /etc/munge/munge.key 2>/dev/null || true
        chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
    if id munge >/dev/null 2>&1; then
        su -s /bin/sh munge -c "/usr/sbin/munged --force" 2>/dev/null || /usr/sbin/munged --force
    else
        /usr/sbin/munged --force
    fi
    for _ in $(seq 50); do
        if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "slurm-local: munged did not come up" >&2
    exit 1
}

write_conf() {
    local host cpus
    host=$(hostname)
    cpus=$(nproc)
    mkdir -p "$dir/state" "$dir/spool" "$dir/log"
    cat >"$conf.tmp" <<EOF
ClusterName=freqprop
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$conf.tmp" "$conf"
}

wait_idle() {
    local host
    host=$(hostname)
    for _ in $(seq 150); do
        state=$(sinfo -h -n "$host" -o %t 2>/dev/null | head -n1 || true)
        case "$state" in
            idle|mix|alloc) return 0 ;;
            down*|drain*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
        esac
        sleep 0.2
    done
    echo "slurm-local: node $host did not become idle (state '${state:-?}'); see $dir/log" >&2
    exit 1
}

case "$cmd" in
start)
    need slurmctld slurmd sbatch munged
    if [ "$(id -u)" -ne 0 ]; then
        echo "slurm-local: must run as root (SlurmUser=root)" >&2
        exit 3
    fi
    export SLURM_CONF=$conf
    started=0
    start_munge
    if ! alive "$dir/slurmctld.pid" || ! alive "$dir/slurmd.pid"; then
        write_conf
        alive "$dir/slurmctld.pid" || { /usr/sbin/slurmctld -f "$conf"; started=1; }
        alive "$dir/slurmd.pid" || { /usr/sbin/slurmd -f "$conf"; started=1; }
    fi
    wait_idle
    echo "SLURM_CONF=$conf"
    echo "STARTED=$started"
    ;;
stop)
    for d in slurmd slurmctld; do
        pidf=$dir/$d.pid
        if alive "$pidf"; then
            pid=$(cat "$pidf")
            kill "$pid"
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$pidf"
    done
    echo "slurm-local: stopped"
    ;;
status)
    export SLURM_CONF=$conf
    if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid"; then
        sinfo
    else
        echo "slurm-local: not running"
        exit 1
    fi
    ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
