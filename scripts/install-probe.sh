#!/bin/sh
# Puts the probe (probe/: a small program that reports what a container sees) at /probe in a
# root filesystem, built as a static executable:
#   scripts/install-probe.sh ROOTFS
# A container's root filesystem has no C library to load, so `target/release/probe` (linked
# against the host's glibc) fails inside it with "no such file or directory". The probe uses
# only the standard library, so one rustc call builds it static, as tests/build.rs does; the
# result is kept in target/probe/ (or $CARGO_TARGET_DIR/probe/) and rebuilt when the source is
# newer. Run it as the user who builds the workspace (root's PATH seldom has rustc).
set -eu
rootfs=${1:?usage: $0 ROOTFS}
if [ ! -d "$rootfs" ]; then
    echo "$0: $rootfs is not a directory (hint: scripts/busybox-rootfs.sh $rootfs makes one)" >&2
    exit 1
fi
workspace=$(cd "$(dirname "$0")/.." && pwd)
source=$workspace/probe/src/main.rs
out=${CARGO_TARGET_DIR:-$workspace/target}/probe
probe=$out/probe
if [ ! -x "$probe" ] || [ "$source" -nt "$probe" ]; then
    mkdir -p "$out"
    # Built in a directory of its own and moved into place, so that two runs at once never
    # see (or leave) a half-written probe.
    build=$(mktemp -d "$out/build.XXXXXX")
    trap 'rm -rf "$build"' EXIT
    "${RUSTC:-rustc}" --edition 2024 --crate-name probe -C opt-level=2 \
        -C target-feature=+crt-static -C panic=abort -C strip=symbols \
        -o "$build/probe" "$source"
    mv -f "$build/probe" "$probe"
fi
cp "$probe" "$rootfs/probe"
chmod 755 "$rootfs/probe"
