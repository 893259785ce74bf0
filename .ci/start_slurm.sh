#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine, for tests/test_slurm.py (run as root; Debian).
#
# Installs Debian's slurm-wlm and munge if sbatch is missing, writes /etc/slurm/slurm.conf for
# this host (its hostname, CPUs from nproc, RealMemory from /proc/meminfo), creates the munge key
# if there is none, and starts munged, slurmctld and slurmd. Process tracking needs no cgroups
# (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none), so it runs in a container or VM.
# One partition, named $RCC_SLURM_PARTITION (default: debug). Waits until the node is idle and
# a test job has run; exits non-zero (with the daemons' logs) if it does not come up in 90 s.
# Idempotent: if the cluster already answers, it only checks it.
set -euo pipefail

PARTITION="${RCC_SLURM_PARTITION:-debug}"
LOG_DIR=/var/log/slurm

if [ "$(id -u)" != 0 ]; then
    echo "start_slurm.sh: must run as root (it starts munged, slurmctld and slurmd)" >&2
    exit 1
fi
if ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq slurm-wlm munge
fi

if scontrol ping 2>/dev/null | grep -q "is UP" && sinfo -h -p "$PARTITION" >/dev/null 2>&1; then
    echo "start_slurm.sh: SLURM already running (partition $PARTITION)"
    exit 0
fi

HOST="$(hostname -s)"
CPUS="$(nproc)"
MEM_MB=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512))  # leave 512 MB for the OS

# --- munge: the key and the daemon ---------------------------------------------------------
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile=/etc/munge/munge.key
    else
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0400 /etc/munge/munge.key
chmod 0755 /run/munge
if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- /usr/sbin/munged
fi

# --- slurm.conf for this host -----------------------------------------------------------------
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$LOG_DIR"
cat >/etc/slurm/slurm.conf <<EOF
# Written by .ci/start_slurm.sh: a one-node cluster for the tests.
ClusterName=rcc-ci
SlurmctldHost=${HOST}
AuthType=auth/munge
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=${LOG_DIR}/slurmctld.log
SlurmdLogFile=${LOG_DIR}/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=10
MinJobAge=300
NodeName=${HOST} CPUs=${CPUS} RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
EOF
rm -f /etc/slurm/cgroup.conf  # no cgroups: slurm 22.05 has no 'disabled' cgroup plugin, and none is used

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd

# --- wait until it schedules -----------------------------------------------------------------
for _ in $(seq 1 90); do
    state="$(sinfo -h -n "$HOST" -o '%t' 2>/dev/null || true)"
    if [ "$state" = "idle" ]; then
        if srun -p "$PARTITION" -N1 -n1 -t 1 true 2>/dev/null; then
            echo "start_slurm.sh: SLURM up on $HOST ($CPUS CPUs, ${MEM_MB} MB), partition $PARTITION"
            exit 0
        fi
    fi
    if [ "$state" = "down" ] || [ "$state" = "drain" ]; then
        scontrol update nodename="$HOST" state=resume 2>/dev/null || true
    fi
    sleep 1
done
echo "start_slurm.sh: SLURM did not come up in 90 s" >&2
sinfo >&2 || true
tail -n 30 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
exit 1
