#!/usr/bin/env bash
# Lists what the engine's networks left on this host: bridges (dy-*), veth ends still on one of
# them, nftables tables (dockyard_*), and the tests' "outside" namespaces. Exits 1 if anything
# is left, 0 if the host is clean. CI runs it after the tests: every test removes what it made.
set -euo pipefail

left=0
for link in /sys/class/net/*; do
    name=$(basename "$link")
    master=$(basename "$(readlink "$link/master" 2>/dev/null || true)")
    case "$name" in
        dy-*) echo "bridge left: $name"; left=1 ;;
    esac
    case "$master" in
        dy-*) echo "veth left on $master: $name"; left=1 ;;
    esac
done
if command -v nft >/dev/null; then
    for table in $(nft list tables | awk '$3 ~ /^dockyard_/ {print $3}'); do
        echo "nftables table left: $table"; left=1
    done
fi
for namespace in $(ip netns list 2>/dev/null | awk '/^dy-/ {print $1}'); do
    echo "network namespace left: $namespace"; left=1
done
exit $left
