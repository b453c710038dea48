#!/usr/bin/env bash
# Benchmark: what a detached container's monitor costs, beside podman's conmon (and docker's
# containerd shim when a dockerd answers on DOCKER_HOST): resident memory (VmRSS), its
# proportional share (Pss, from smaps_rollup: pages shared with the other monitors count in
# part), and the time `run -d` takes to return. Docker runs on a private dockerd of its own
# (scripts/lib/private-dockerd.sh) when dockerd is installed.
#   sudo scripts/bench-monitor.sh [CONTAINERS]
# Needs busybox-static; podman is compared when installed (apt-get install podman).
set -euo pipefail
count=${1:-5}
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "$0: containers need root; run with sudo" >&2; exit 1; }

cargo build --release -q -p ch06-compose
tool=${CARGO_TARGET_DIR:-$PWD/target}/release/ch06-compose
work=$(mktemp -d /tmp/dockyard-bench.XXXXXX)
state=$work/state
cleanup() {
    for id in $("$tool" --root "$state" ps -aq --no-trunc 2>/dev/null); do
        "$tool" --root "$state" rm -f "$id" >/dev/null 2>&1 || true
    done
    if command -v podman >/dev/null; then
        podman rm -f -t 0 $(podman ps -aq --filter label=dockyard-bench) >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
scripts/busybox-rootfs.sh "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
"$tool" --root "$state" import "$work/rootfs.tar" busybox >/dev/null

# kB of VmRSS and Pss of each pid, then their means.
memory() {
    local rss=0 pss=0 n=0
    for pid in "$@"; do
        rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")))
        pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")))
        n=$((n + 1))
    done
    echo "$((rss / n)) kB RSS, $((pss / n)) kB PSS (mean of $n)"
}

start=$(date +%s%N)
for _ in $(seq "$count"); do
    "$tool" --root "$state" run -d busybox sleep 600 >/dev/null
done
elapsed=$(( ($(date +%s%N) - start) / count / 1000000 ))
monitors=()
for dir in "$state"/containers/*/; do
    monitors+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["monitor_pid"])' "$dir/state.json")")
done
echo "dockyard monitor:    $(memory "${monitors[@]}"); run -d took ${elapsed} ms each"

compare_podman() {
    podman import -q "$work/rootfs.tar" localhost/dockyard-bench >/dev/null
    start=$(date +%s%N)
    for _ in $(seq "$count"); do
        # A machine whose file limit is below what podman asks for refuses its containers.
        podman run -d --label dockyard-bench --network none localhost/dockyard-bench sleep 600 >/dev/null ||
            { echo "podman conmon:       podman could not run a container here"; return 0; }
    done
    elapsed=$(( ($(date +%s%N) - start) / count / 1000000 ))
    conmons=()
    for id in $(podman ps -q --no-trunc --filter label=dockyard-bench); do
        conmons+=("$(pgrep -f "conmon.*$id" | head -1)")
    done
    echo "podman conmon:       $(memory "${conmons[@]}"); podman run -d took ${elapsed} ms each"
}
command -v podman >/dev/null && compare_podman

if command -v dockerd >/dev/null; then
    . scripts/lib/private-dockerd.sh
    mkdir -p "$work/docker"
    start_private_dockerd "$work/docker"
    trap 'stop_private_dockerd "$work/docker"; cleanup' EXIT
    docker import "$work/rootfs.tar" dockyard-bench >/dev/null
    start=$(date +%s%N)
    for _ in $(seq "$count"); do
        docker run -d --network none dockyard-bench sleep 600 >/dev/null
    done
    elapsed=$(( ($(date +%s%N) - start) / count / 1000000 ))
    echo "containerd shim:     $(memory $(pgrep -f "containerd-shim.*$work")); docker run -d took ${elapsed} ms each"
    docker rm -f $(docker ps -q) >/dev/null
fi
