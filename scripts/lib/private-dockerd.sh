# Sourced by the scripts that compare Dockyard with Docker: a dockerd of their own, on a
# private socket, with its data and runtime state under the script's work directory, no
# iptables rules and no bridge, so that it touches nothing of the machine's (nor of a dockerd
# the machine may run). `DOCKER` names the client (default `docker`).

# start_private_dockerd WORK [BRIDGE]: starts it, points DOCKER_HOST at it, waits (10 s at
# most) until it answers. BRIDGE, a bridge the caller made (with its address), becomes
# docker's default network; without it docker has none (`--bridge=none`).
start_private_dockerd() {
    local work=$1 bridge=${2:-none}
    command -v dockerd >/dev/null || { echo "$0: needs dockerd (apt-get install docker.io)" >&2; return 1; }
    export DOCKER_HOST=unix://$work/docker.sock
    dockerd --data-root "$work/data" --exec-root "$work/exec" -H "$DOCKER_HOST" \
        --pidfile "$work/docker.pid" --iptables=false --bridge="$bridge" >"$work/dockerd.log" 2>&1 &
    for _ in $(seq 100); do "${DOCKER:-docker}" version >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "$0: dockerd did not answer; see $work/dockerd.log" >&2
    return 1
}

# stop_private_dockerd WORK: stops it, waits (10 s at most) until it is gone, and unmounts
# what it left mounted in its data directory.
stop_private_dockerd() {
    local work=$1
    if [ -f "$work/docker.pid" ]; then
        kill "$(cat "$work/docker.pid")" 2>/dev/null || true
        for _ in $(seq 100); do [ -f "$work/docker.pid" ] || break; sleep 0.1; done
    fi
    umount -R "$work/data" 2>/dev/null || true
}
