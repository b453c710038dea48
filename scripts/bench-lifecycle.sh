#!/usr/bin/env bash
# Benchmark: a detached container's lifecycle, beside docker (a private dockerd of its own, see
# scripts/lib/private-dockerd.sh) when dockerd is installed:
#   run -d    of a sleeping container, until the command returns (the container runs);
#   exec      of /bin/true in a running container;
#   stop      of a cooperative container (--init forwards SIGTERM, and the sleeper dies of it).
#   sudo scripts/bench-lifecycle.sh [RUNS]
# Needs hyperfine and busybox-static.
set -euo pipefail
runs=${1:-20}
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "$0: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: containers need root; run with sudo" >&2; exit 1; }

cargo build --release -q -p ch06-compose
tool="${CARGO_TARGET_DIR:-$PWD/target}/release/ch06-compose"
work=$(mktemp -d /tmp/dockyard-bench.XXXXXX)
d="$tool --root $work/state"
cleanup() {
    $d rm -f bench-run bench-exec bench-stop >/dev/null 2>&1 || true
    if [ -n "${DOCKER_HOST:-}" ]; then
        docker rm -f bench-run bench-exec bench-stop >/dev/null 2>&1 || true
        stop_private_dockerd "$work/docker"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
scripts/busybox-rootfs.sh "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
$d import "$work/rootfs.tar" busybox >/dev/null

# measure NAME CLI IMAGE: the three timings for one engine's command line.
measure() {
    local name=$1 cli=$2 image=$3
    echo "--- $name"
    $cli run -d --name bench-exec $image sleep 3600 >/dev/null
    hyperfine -N --style basic --runs "$runs" \
        --prepare "sh -c '$cli rm -f bench-run >/dev/null 2>&1 || true'" \
        -n "$name run -d" "$cli run -d --name bench-run $image sleep 3600" \
        -n "$name exec" "$cli exec bench-exec /bin/true" 2>&1 | grep -E "^Benchmark|Time"
    hyperfine -N --style basic --runs "$runs" \
        --prepare "sh -c '$cli rm -f bench-stop >/dev/null 2>&1; $cli run -d --init --name bench-stop $image sleep 3600 >/dev/null'" \
        -n "$name stop" "$cli stop bench-stop" 2>&1 | grep -E "^Benchmark|Time"
}

measure dockyard "$d" busybox
if command -v dockerd >/dev/null; then
    . scripts/lib/private-dockerd.sh
    mkdir -p "$work/docker"
    start_private_dockerd "$work/docker"
    docker import "$work/rootfs.tar" dockyard-bench >/dev/null
    measure docker docker "--network none dockyard-bench"
fi
