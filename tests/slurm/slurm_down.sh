#!/usr/bin/env bash
# Stop the daemons tests/slurm/slurm_up.sh started from DIR: all of them, or only those named.
#
#   bash tests/slurm/slurm_down.sh DIR [munged] [slurmctld] [slurmd]
#
# Each is stopped through its own pid file in DIR, never by name, and waited for (10 s at most).
set -uo pipefail

dir="$(cd "${1:?usage: slurm_down.sh DIR [DAEMON...]}" && pwd)"
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(slurmd slurmctld munged)

stop() { # stop NAME: TERM the process its pid file names, if it is still that daemon; wait
    local pidfile="$dir/$1.pid" pid
    [ -s "$pidfile" ] || return 0
    pid="$(cat "$pidfile")"
    pgrep -F "$pidfile" -x "$1" >/dev/null 2>&1 || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        # a daemon's exited child stays a zombie until reaped: gone for this purpose
        [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && return 0
        sleep 0.1
    done
    echo "slurm_down.sh: $1 (pid $pid) still running after 10 s" >&2
    return 1
}

status=0
# Jobs still queued or running on this private cluster (a run that failed or was killed) go first.
if [ -s "$dir/slurm.conf" ] && [[ " ${names[*]} " == *" slurmctld "* ]]; then
    SLURM_CONF="$dir/slurm.conf" squeue -h -o %A 2>/dev/null | xargs -r env SLURM_CONF="$dir/slurm.conf" scancel 2>/dev/null || true
fi
# slurmd first, so that the controller does not see its node vanish; munged last.
for name in slurmd slurmctld munged; do
    for wanted in "${names[@]}"; do
        if [ "$wanted" = "$name" ]; then
            stop "$name" || status=1
        fi
    done
done
exit $status
