#!/usr/bin/env bash
# Benchmarks for chapter 03, side by side with the tools people already have:
#  1. applying a ~200 MB gzip layer archive (ch03-union-fs apply) against GNU `tar -xzf` of the
#     same file, each into a fresh directory;
#  2. `run` of /bin/true on 1, 10 and 128 layers against chapter 02 on a plain rootfs (what the
#     overlay adds to a container start).
#   sudo scripts/bench-layers.sh [apply|run|all] [RUNS]
# Needs hyperfine and busybox-static. The archive is built once from /usr/share (cached as
# $DOCKYARD_BENCH_ARCHIVE, default /var/tmp/dockyard-bench-layer.tar.gz).
set -euo pipefail
what=${1:-all}
runs=${2:-100}
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "$0: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: containers and owners need root; run with sudo" >&2; exit 1; }

cargo build --release -q -p ch02-cgroups -p ch03-union-fs
ch02=$PWD/target/release/ch02-cgroups
ch03=$PWD/target/release/ch03-union-fs
work=$(mktemp -d /var/tmp/dockyard-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

median() {
    python3 - "$1" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
print(f"{'command':<34}{'median':>11}{'mean':>11}{'min':>11}")
for r in results:
    print(f"{r['command']:<34}{r['median']*1000:>9.1f}ms{r['mean']*1000:>9.1f}ms{r['min']*1000:>9.1f}ms")
PY
}

if [ "$what" = apply ] || [ "$what" = all ]; then
    archive=${DOCKYARD_BENCH_ARCHIVE:-/var/tmp/dockyard-bench-layer.tar.gz}
    if [ ! -s "$archive" ]; then
        echo "building $archive from /usr/share (once)..." >&2
        tar -C / -czf "$archive.partial" usr/share && mv "$archive.partial" "$archive"
    fi
    size=$(stat -c %s "$archive")
    unpacked=$(gzip -dc "$archive" | wc -c)
    echo "archive: $((size / 1000000)) MB gzip, $((unpacked / 1000000)) MB of tar" >&2
    # On disk, every run unpacks into a fresh directory: deleting 50 000 files between runs
    # leaves the filesystem busy for seconds (journal, discards) and would time that instead.
    # The previous run's directory is moved aside (cheap) and its writes flushed before the next.
    out=$work/out
    aside="mkdir -p $work/aside; [ ! -d $out ] || mv $out $work/aside/\$(date +%s%N); mkdir $out; sync"
    hyperfine --runs 5 --warmup 1 --export-json "$work/apply.json" --prepare "$aside" \
        -n "ch03-union-fs apply" "$ch03 apply $archive $out" \
        -n "tar -xzf (GNU tar + gzip)" "tar -C $out -xzf $archive" \
        -n "gzip -dc > /dev/null" "gzip -dc $archive > /dev/null" >&2
    rm -rf "$work/aside" "$out"
    echo "on $(df --output=fstype "$work" | tail -1) ($work):"
    median "$work/apply.json"
    python3 - "$work/apply.json" "$size" <<'PY'
import json, sys
results = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2]) / 1e6
ours, tar = results["ch03-union-fs apply"], results["tar -xzf (GNU tar + gzip)"]
print(f"throughput (compressed): ch03 {size / ours:.0f} MB/s, tar -xzf {size / tar:.0f} MB/s: {tar / ours:.2f}x")
PY
    # In memory (tmpfs): what the unpacking itself costs, without the disk.
    mem=$(mktemp -d /dev/shm/dockyard-bench.XXXXXX)
    hyperfine --runs 5 --warmup 1 --export-json "$work/apply-mem.json" \
        --prepare "rm -rf $mem/out; mkdir $mem/out" \
        -n "ch03-union-fs apply" "$ch03 apply $archive $mem/out" \
        -n "tar -xzf (GNU tar + gzip)" "tar -C $mem/out -xzf $archive" >&2
    rm -rf "$mem"
    echo "on tmpfs:"
    median "$work/apply-mem.json"
fi

if [ "$what" = run ] || [ "$what" = all ]; then
    scripts/busybox-rootfs.sh "$work/rootfs" >/dev/null
    layers=()
    for i in $(seq 1 127); do
        mkdir -p "$work/layers/$i" && echo "$i" > "$work/layers/$i/f$i"
        layers+=(--layer "$work/layers/$i")
    done
    run="$ch03 --root $work/state run --rm --layer $work/rootfs"
    # The same with the state directory in memory: what the overlay itself costs, without the
    # disk's cost of creating and removing the container's directories.
    mem=$(mktemp -d /dev/shm/dockyard-bench.XXXXXX)
    trap 'rm -rf "$work" "$mem"' EXIT
    hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/run.json" \
        -n "ch02-cgroups (plain rootfs)" "$ch02 run --rootfs $work/rootfs -- /bin/true" \
        -n "ch03-union-fs, 1 layer" "$run -- /bin/true" \
        -n "ch03-union-fs, 10 layers" "$run ${layers[*]:0:18} -- /bin/true" \
        -n "ch03-union-fs, 128 layers" "$run ${layers[*]} -- /bin/true" \
        -n "ch03, 1 layer, --root on tmpfs" "$ch03 --root $mem run --rm --layer $work/rootfs -- /bin/true" \
        -n "ch03, 128 layers, --root on tmpfs" "$ch03 --root $mem run --rm --layer $work/rootfs ${layers[*]} -- /bin/true" \
        -n "ch03, 128 layers, mount(2)" "$ch03 --storage-opt overlay.mount_api=legacy --root $work/state run --rm --layer $work/rootfs ${layers[*]} -- /bin/true" >&2
    median "$work/run.json"
fi
