#!/usr/bin/env bash
# Benchmark: `cp` of a directory (MB files of 1 MiB and 1000 files of 4 KiB, 100 MiB by default)
# into and out of a running container and a stopped one, beside `tar -c | tar -x` on the host
# (the same bytes read and written once, no container in the way) and beside `docker cp` on a
# dockerd of the script's own when docker.io is installed.
#   sudo scripts/bench-cp.sh [MB]
# Needs busybox-static and hyperfine; the machine's page cache holds everything (warm runs).
set -euo pipefail
mb=${1:-100}
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "$0: containers need root; run with sudo" >&2; exit 1; }
. scripts/lib/private-dockerd.sh

cargo build --release -q -p ch06-compose
tool=${CARGO_TARGET_DIR:-$PWD/target}/release/ch06-compose
work=$(mktemp -d /tmp/dockyard-bench.XXXXXX)
state=$work/state
docker_started=false
cleanup() {
    for id in $("$tool" --root "$state" ps -aq --no-trunc 2>/dev/null); do
        "$tool" --root "$state" rm -f "$id" >/dev/null 2>&1 || true
    done
    if $docker_started; then
        docker rm -f bench >/dev/null 2>&1 || true
        stop_private_dockerd "$work/docker"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/payload"
for i in $(seq "$mb"); do head -c 1048576 /dev/urandom >"$work/payload/big-$i"; done
for d in $(seq 10); do
    mkdir -p "$work/payload/small-$d"
    for i in $(seq 100); do head -c 4096 /dev/urandom >"$work/payload/small-$d/$i"; done
done
echo "data: $(du -sh "$work/payload" | cut -f1) in $(find "$work/payload" -type f | wc -l) files"
scripts/busybox-rootfs.sh "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
"$tool" --root "$state" import "$work/rootfs.tar" busybox >/dev/null
"$tool" --root "$state" run -d --name running busybox sleep 600 >/dev/null
stopped=$("$tool" --root "$state" create --name stopped busybox true)
mkdir -p "$work/tar-out"

ch06="$tool --root $state"
runs=(--warmup 1 --runs 5)
hyperfine "${runs[@]}" --export-markdown "$work/dockyard.md" \
    -n "tar -c | tar -x (host)" --prepare "rm -rf $work/tar-out/payload" \
    "tar -C $work -cf - payload | tar -C $work/tar-out -xf -" \
    -n "cp in (running)" --prepare "$ch06 exec running rm -rf /tmp/data" \
    "$ch06 cp $work/payload running:/tmp/data" \
    -n "cp out (running)" --prepare "rm -rf $work/out" \
    "$ch06 cp running:/tmp/data $work/out" \
    -n "cp in (stopped)" --prepare "rm -rf $state/containers/$stopped/upper/tmp/data" \
    "$ch06 cp $work/payload stopped:/tmp/data" \
    -n "cp out (stopped)" --prepare "rm -rf $work/out" \
    "$ch06 cp stopped:/tmp/data $work/out"
cat "$work/dockyard.md"

# dockerd's state in a directory of its own: the payload must not be inside its data root.
if command -v dockerd >/dev/null && mkdir -p "$work/docker" && start_private_dockerd "$work/docker"; then
    docker_started=true
    docker import "$work/rootfs.tar" dockyard-bench:busybox >/dev/null
    docker run -d --name bench --network none dockyard-bench:busybox sleep 600 >/dev/null
    docker create --name bench-stopped --network none dockyard-bench:busybox true >/dev/null
    hyperfine "${runs[@]}" --export-markdown "$work/docker.md" \
        -n "docker cp in (running)" --prepare "docker exec bench rm -rf /tmp/data" \
        "docker cp $work/payload bench:/tmp/data" \
        -n "docker cp out (running)" --prepare "rm -rf $work/out" \
        "docker cp bench:/tmp/data $work/out" \
        -n "docker cp in (stopped)" --prepare "docker rm -f bench-stopped >/dev/null; docker create --name bench-stopped --network none dockyard-bench:busybox true" \
        "docker cp $work/payload bench-stopped:/tmp/data" \
        -n "docker cp out (stopped)" --prepare "rm -rf $work/out" \
        "docker cp bench-stopped:/tmp/data $work/out"
    cat "$work/docker.md"
    docker rm -f bench-stopped >/dev/null
fi
