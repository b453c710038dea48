#!/usr/bin/env bash
# Compares what the probe sees in a default container of Dockyard's chapter 01 and of Docker:
# capabilities, seccomp mode, no_new_privs, descriptors, the dangerous calls, masked paths.
#   sudo scripts/compare-docker.sh
# Needs Debian's docker.io (a dockerd of its own is started on a private socket and stopped
# afterwards) and busybox-static; the probe comes from `cargo test` (built by tests/build.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/private-dockerd.sh
cargo build -q -p ch01-namespaces -p dockyard-tests
probe=$(ls -t target/debug/build/dockyard-tests-*/out/probe | head -1)
work=$(mktemp -d /tmp/dockyard-compare.XXXXXX)
cleanup() {
    stop_private_dockerd "$work"
    rm -rf "$work"
}
trap cleanup EXIT
scripts/busybox-rootfs.sh "$work/rootfs" >/dev/null
cp "$probe" "$work/rootfs/probe"
mkdir -p "$work/rootfs/mnt"
start_private_dockerd "$work"
tar -C "$work/rootfs" -cf - . | docker import - dockyard-compare:probe >/dev/null

calls="init_module finit_module delete_module kexec_load reboot mount umount2 unshare clone3 keyctl add_key bpf perf_event_open userfaultfd getpid"
status=0
compare() {
    local what=$1; shift
    docker run --rm --network none "$@" dockyard-compare:probe /probe $what >"$work/docker.out"
    target/debug/ch01-namespaces run --rootfs "$work/rootfs" "$@" -- /probe $what >"$work/dockyard.out"
    if diff -u "$work/docker.out" "$work/dockyard.out" >"$work/diff"; then
        echo "same:    $what $*"
    else
        echo "differs: $what $*"; cat "$work/diff"; status=1
    fi
}
compare "report caps fds"
compare "report caps" -u 65534:65534
compare "report caps" --cap-drop ALL
compare "report caps" --cap-add SYS_ADMIN
compare "report caps" --security-opt no-new-privileges
compare "syscall $calls"
compare "report ids" -u 65534
# Masked paths: the same mounts on /proc and /sys, in any order (Docker also mounts cgroups,
# /dev/mqueue and /etc/hosts & co., which later chapters add).
docker run --rm --network none dockyard-compare:probe /probe report mounts | grep -E ' /(proc|sys/firmware|sys/devices)' | sort >"$work/docker.out"
target/debug/ch01-namespaces run --rootfs "$work/rootfs" -- /probe report mounts | grep -E ' /(proc|sys/firmware|sys/devices)' | sort >"$work/dockyard.out"
if diff -u "$work/docker.out" "$work/dockyard.out"; then echo "same:    masked and read-only paths"; else status=1; fi
exit $status
