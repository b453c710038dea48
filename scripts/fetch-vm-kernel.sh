#!/bin/sh
# Fetches a Debian kernel for the cgroup v2 tests, which boot it in QEMU:
#   scripts/fetch-vm-kernel.sh [DIR]     (default: target/vm; writes DIR/vmlinuz)
# `apt-get download` and `dpkg-deb -x` rather than installing the package, which would pull in
# initramfs-tools and touch the host's /boot.
set -eu
dir=${1:-$(dirname "$0")/../target/vm}
mkdir -p "$dir"
[ -f "$dir/vmlinuz" ] && exit 0
package=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
[ -n "$package" ] || { echo "$0: no linux-image package found (hint: apt-get update)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq "$package" 2>/dev/null && dpkg-deb -x ./*.deb x)
cp "$work"/x/boot/vmlinuz-* "$dir/vmlinuz"
echo "kernel $package in $dir/vmlinuz"
