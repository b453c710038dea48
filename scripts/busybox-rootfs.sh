#!/bin/sh
# Builds a small root filesystem from Debian's static busybox, offline:
#   scripts/busybox-rootfs.sh DIR
# DIR gets /bin/busybox, a link for each applet (sh, ls, ps, ...), and minimal /etc files.
set -eu
dir=${1:?usage: $0 DIR}
busybox=/bin/busybox
if [ ! -x "$busybox" ]; then
    echo "$0: $busybox not found (hint: apt-get install busybox-static)" >&2
    exit 1
fi
if head -c 16384 "$busybox" | grep -q 'ld-linux'; then
    echo "$0: $busybox is dynamically linked (hint: apt-get install busybox-static)" >&2
    exit 1
fi
mkdir -p "$dir/bin" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp" "$dir/root"
cp "$busybox" "$dir/bin/busybox"
for applet in $("$busybox" --list); do
    [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$dir/etc/group"
echo "root filesystem ready in $dir"
