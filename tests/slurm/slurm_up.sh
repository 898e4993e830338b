#!/usr/bin/env bash
# Start a one-node SLURM cluster whose files all live in DIR (tests/test_slurm.py does this itself).
# By hand, e.g. the demo through the cluster profile (the flags: this cluster has no accounting):
#
#   bash tests/slurm/slurm_up.sh /tmp/slurm-dev
#   export SLURM_CONF=/tmp/slurm-dev/slurm.conf PATH=/tmp/slurm-dev/bin:$PATH
#   snakemake --profile workflow/profiles/slurm --configfile config/demo.yaml \
#       --slurm-status-command squeue --slurm-no-account --slurm-init-seconds-before-status-checks 5
#   bash tests/slurm/slurm_down.sh /tmp/slurm-dev      # stops what runs from that folder
#
# Needs root and Debian's packages: apt-get install slurm-wlm slurmctld slurmd slurm-client munge.
# A private munged (its own key and socket in DIR), slurmctld and slurmd, all as root, with the
# configuration tests/slurm/slurm.conf.in on two ports the OS says are free: nothing is written
# in /etc, /run or /var/lib, and a system's own SLURM or munge keeps running untouched.
#
# Idempotent: a daemon already running from DIR is left as it is. The last line printed names the
# daemons this call started ("started: munged slurmctld slurmd", or "started:" for none), so that a
# caller stops only those. Exits 0 once the node takes jobs.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: slurm_up.sh DIR}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

for binary in munged munge slurmctld slurmd sinfo scontrol sbatch squeue srun; do
    if ! command -v "$binary" >/dev/null; then
        echo "slurm_up.sh: $binary not found; install with:" >&2
        echo "  apt-get install slurm-wlm slurmctld slurmd slurm-client munge" >&2
        exit 3
    fi
done
if [ "$(id -u)" != 0 ]; then
    echo "slurm_up.sh: slurmd and this private munged must run as root" >&2
    exit 3
fi

export SLURM_CONF="$dir/slurm.conf"
started=()

running() { # running NAME: the pid file in DIR names a live process of that name
    local pidfile="$dir/$1.pid"
    [ -s "$pidfile" ] && pgrep -F "$pidfile" -x "$1" >/dev/null 2>&1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The configuration, on fresh ports unless a daemon already runs with it.
if ! running slurmctld && ! running slurmd; then
    ctld_port="$(free_port)"
    slurmd_port="$(free_port)"
    while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port="$(free_port)"; done
    sed -e "s|@DIR@|$dir|g" -e "s|@CTLD_PORT@|$ctld_port|g" -e "s|@SLURMD_PORT@|$slurmd_port|g" \
        -e "s|@CPUS@|$(( $(nproc) > 4 ? $(nproc) : 4 ))|g" "$here/slurm.conf.in" >"$SLURM_CONF.new"
    mv "$SLURM_CONF.new" "$SLURM_CONF"
fi

install -d -m 0700 "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/bin"

# Inside a job, the executor's jobstep plugin starts the rule with `srun` in an environment from
# which it removes every SLURM_* variable, SLURM_CONF too: a real cluster's nodes find their
# configuration in /etc/slurm, this one is only where SLURM_CONF says. Callers put DIR/bin first on
# PATH; this srun puts the variable back and runs the real one.
real_srun="$(type -ap srun | grep -vx "$dir/bin/srun" | head -n 1)" || {
    echo "slurm_up.sh: srun not found" >&2
    exit 3
}
cat >"$dir/bin/srun" <<EOF
#!/bin/sh
SLURM_CONF='$SLURM_CONF' exec '$real_srun' "\$@"
EOF
chmod 0755 "$dir/bin/srun"

# munged refuses a socket whose parent directories others cannot enter (a 0700 /tmp); --force
# makes that a warning: only root talks to this daemon.
if [ ! -s "$dir/munge/munge.key" ]; then
    (umask 077 && head -c 1024 /dev/urandom >"$dir/munge/munge.key")
fi
if ! running munged; then
    munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed"
    started+=(munged)
fi
if ! running slurmctld; then
    slurmctld
    started+=(slurmctld)
fi
if ! running slurmd; then
    slurmd -N localhost
    started+=(slurmd)
fi

# Ready when the node is idle (or busy with jobs already).
for attempt in $(seq 1 150); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
        echo "started: ${started[*]:-}"
        exit 0
    fi
    if [ "$attempt" = 25 ]; then
        scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
    fi
    sleep 0.2
done
echo "slurm_up.sh: the node did not become ready in 30 s; see $dir/log/" >&2
sinfo -N -l >&2 || true
echo "started: ${started[*]:-}"
exit 1
