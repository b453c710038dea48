#!/usr/bin/env bash
# Benchmark: start /bin/true in a container, each chapter's tool against crun and runc, same
# rootfs. ch02-cgroups runs with a memory limit, then with memory, pids and CPU limits (it
# creates and removes a cgroup each run).
#   sudo scripts/bench-run.sh [RUNS] [GAP]
# Needs hyperfine and busybox-static; crun and runc are compared when installed
# (apt-get install hyperfine busybox-static crun runc). Prints the median, mean and minimum of
# each, and the ratio of medians to crun's.
# GAP (seconds, e.g. 0.05) sleeps before each timed run, as when containers are started now and
# then rather than back to back: moving a process into a cgroup takes a kernel lock whose first
# taker after a quiet moment waits for an RCU grace period, which back-to-back runs never see.
set -euo pipefail
runs=${1:-200}
gap=${2:-}
spacing=()
[ -n "$gap" ] && spacing=(--prepare "sleep $gap")
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "$0: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: containers need root; run with sudo" >&2; exit 1; }

cargo build --release -q -p ch01-namespaces -p ch02-cgroups
work=$(mktemp -d /tmp/dockyard-bench.XXXXXX)
trap 'rm -rf "$work"; for d in /sys/fs/cgroup/*/dockyard-bench /sys/fs/cgroup/dockyard-bench; do [ -d "$d" ] && rmdir "$d"; done; true' EXIT
scripts/busybox-rootfs.sh "$work/bundle/rootfs" >/dev/null

# One OCI bundle for crun and runc: their default spec, running /bin/true without a terminal.
if command -v runc >/dev/null || command -v crun >/dev/null; then
    (cd "$work/bundle" && { runc spec 2>/dev/null || crun spec; })
    python3 - "$work/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["/bin/true"]
spec["root"] = {"path": "rootfs", "readonly": False}
json.dump(spec, open(path, "w"), indent=2)
PY
fi

target=${CARGO_TARGET_DIR:-$PWD/target}
ch01=$target/release/ch01-namespaces
ch02=$target/release/ch02-cgroups
commands=(-n ch01-namespaces "$ch01 run --rootfs $work/bundle/rootfs -- /bin/true")
commands+=(-n "ch02-cgroups --memory 64m" "$ch02 run --rootfs $work/bundle/rootfs --memory 64m --cgroup-parent dockyard-bench -- /bin/true")
commands+=(-n "ch02-cgroups (mem,pids,cpus)" "$ch02 run --rootfs $work/bundle/rootfs --memory 64m --pids-limit 100 --cpus 1 --cgroup-parent dockyard-bench -- /bin/true")
if command -v crun >/dev/null; then
    # crun refuses hybrid cgroup setups (v1 controllers plus a cgroup2 mount at unified): give
    # it a private mount namespace without that mount. Costs one unshare, noted in the output.
    if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
        commands+=(-n "crun (in unshare -m)" "unshare -m sh -c 'umount /sys/fs/cgroup/unified; crun run -b $work/bundle bench-crun'")
    else
        commands+=(-n crun "crun run -b $work/bundle bench-crun")
    fi
fi
if command -v runc >/dev/null; then
    commands+=(-n runc "runc run -b $work/bundle bench-runc")
fi

hyperfine -N --warmup 20 --runs "$runs" "${spacing[@]}" --export-json "$work/results.json" "${commands[@]}" >&2 || \
hyperfine --warmup 20 --runs "$runs" "${spacing[@]}" --export-json "$work/results.json" "${commands[@]}" >&2
python3 - "$work/results.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
crun = next((r["median"] for r in results if r["command"].startswith("crun")), None)
print(f"{'runtime':<30}{'median':>10}{'mean':>10}{'min':>10}{'/crun':>8}")
for r in results:
    ratio = f"{r['median'] / crun:>7.2f}x" if crun else ""
    print(f"{r['command']:<30}{r['median']*1000:>8.2f}ms{r['mean']*1000:>8.2f}ms{r['min']*1000:>8.2f}ms{ratio}")
PY
