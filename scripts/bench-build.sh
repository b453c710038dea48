#!/usr/bin/env bash
# Benchmark: `ch05-dockerfile build` side by side with docker's legacy builder, BuildKit and
# podman, on the same base image (the busybox fixture of tests/src/images.rs, loaded into
# each). Three scenarios, each with the goal issue 14 sets for Dockyard:
#  small    a rebuild of a small Dockerfile (FROM, ENV, COPY a file, RUN, CMD) with nothing
#           changed: every step from the cache (goal: <= 20 ms);
#  nocache  `--no-cache` build of FROM + `RUN true` (goal: <= 50 ms);
#  context  `COPY . /ctx/`, `--no-cache`, of a context of 100 MB in 10 000 files (goal: at
#           least twice as fast as docker's legacy builder).
#   sudo scripts/bench-build.sh [small|nocache|context|all] [RUNS]
# The binary is a release build in $CARGO_TARGET_DIR (or ./target). Needs hyperfine; docker
# (Debian's docker.io: its 20.10 client /usr/bin/docker, or $DOCKER, and a dockerd of its own
# on a private socket, started and stopped here) and podman are compared when installed
# (apt-get install docker.io podman). Podman runs as root with a store of its own: overlay
# driver, cgroupfs cgroup manager, events to a file, runc. Every build runs with
# `--network host` (ch05's default; dockerd here has no bridge, which BuildKit's RUN needs).
#
# Everything (stores, contexts, dockerd's data) is in a directory under $DOCKYARD_BENCH_DIR
# (default /var/tmp). Mind its file system: on an ext4 without a journal (this VM's root), every
# file created scans past the inodes freed in the last minute or so in its block group
# (ext4's `recently_deleted`), so a build that follows one that deleted 10 000 files pays a
# cost quadratic in them; back-to-back runs of the context scenario then grow slower run
# after run, for every engine that deletes its temporary files. Point DOCKYARD_BENCH_DIR at
# a journaled file system to measure without that (e.g. a loop-mounted `mkfs.ext4` image).
#
# The table gives the median and fastest wall time, and the CPU time per build (user +
# system): of the command and everything it waits for, plus, for docker, of dockerd and
# containerd (their cgroup's cpuacct, spread over every run of the command, warm-ups too).
# The CPU of a RUN step's container (in its engine's cgroup) is not counted, for any of them.
set -euo pipefail
what=${1:-all}
runs=${2:-}
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "$0: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: building needs root; run with sudo" >&2; exit 1; }

cargo build --release -q -p ch05-dockerfile
cargo build -q -p dockyard-tests --example base-image
target=${CARGO_TARGET_DIR:-$PWD/target}
ch05=$target/release/ch05-dockerfile
docker=${DOCKER:-/usr/bin/docker}
work=$(mktemp -d "${DOCKYARD_BENCH_DIR:-/var/tmp}/dockyard-bench-build.XXXXXX")
# Every engine's CPU is read from a cpuacct cgroup of its own (v1, or the unified hierarchy).
cpuacct=/sys/fs/cgroup/cpuacct
[ -f $cpuacct/cpuacct.usage ] || cpuacct=
cleanup() {
    if [ -f "$work/docker.pid" ]; then
        kill "$(cat "$work/docker.pid")" 2>/dev/null || true
        for _ in $(seq 100); do [ -f "$work/docker.pid" ] || break; sleep 0.1; done
    fi
    # dockerd's and podman's mounts (network namespaces, their overlay directories), deepest first.
    for dir in "$work" ${podman_run:+"$podman_run"}; do
        awk -v w="$dir/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
        rm -rf "$dir"
    done
    if [ -n "$cpuacct" ]; then
        for g in "$cpuacct"/dockyard-bench-build-*; do [ -d "$g" ] && rmdir "$g"; done
    fi
    true
}
trap cleanup EXIT

"$target/debug/examples/base-image" "$work/base.tar" dockyard-base:latest
"$ch05" --root "$work/ch05" load -i "$work/base.tar" >/dev/null

engines=(ch05)
if command -v dockerd >/dev/null && [ -x "$docker" ]; then
    export DOCKER_HOST=unix://$work/docker.sock
    dgroup=
    if [ -n "$cpuacct" ]; then dgroup=$cpuacct/dockyard-bench-build-dockerd && mkdir -p "$dgroup"; fi
    # Started in its cgroup (containerd, its child, too): their CPU is the builds' CPU.
    sh -c '[ -z "$1" ] || echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$dgroup" \
        dockerd --data-root "$work/docker" --exec-root "$work/exec" -H "$DOCKER_HOST" --pidfile "$work/docker.pid" \
        --iptables=false --bridge=none >"$work/dockerd.log" 2>&1 &
    for _ in $(seq 100); do "$docker" version >/dev/null 2>&1 && break; sleep 0.1; done
    "$docker" load -q -i "$work/base.tar" >/dev/null
    engines+=(legacy buildkit)
fi
# crun refuses this machine's hybrid cgroups (v1 controllers and a cgroup2 mount): runc.
# Its run root is under /run: podman refuses one longer than 50 characters.
podman_run=$(mktemp -d /run/dockyard-bench-podman.XXXXXX)
podman_cmd=(podman --root "$work/podman" --runroot "$podman_run" --storage-driver overlay
    --cgroup-manager cgroupfs --events-backend file --runtime runc)
if command -v podman >/dev/null; then
    "${podman_cmd[@]}" load -q -i "$work/base.tar" >/dev/null
    engines+=(podman)
fi

# The scenarios' contexts.
mkdir -p "$work/small" "$work/nocache" "$work/context"
cat >"$work/small/Dockerfile" <<'EOF'
FROM dockyard-base:latest
ENV GREETING=hello
COPY hello.txt /hello.txt
RUN cp /hello.txt /copied.txt
CMD ["cat", "/hello.txt"]
EOF
echo hello >"$work/small/hello.txt"
printf 'FROM dockyard-base:latest\nRUN true\n' >"$work/nocache/Dockerfile"
printf 'FROM dockyard-base:latest\nCOPY . /ctx/\n' >"$work/context/Dockerfile"
# 100 directories of 100 files of 10 000 random bytes: 100 MB, 10 000 files.
python3 - "$work/context" <<'PY'
import os, sys
for d in range(100):
    path = os.path.join(sys.argv[1], f"d{d:02}")
    os.mkdir(path)
    for f in range(100):
        with open(os.path.join(path, f"f{f:02}"), "wb") as out:
            out.write(os.urandom(10000))
PY

# command ENGINE SCENARIO ARGS...: the build command of an engine (no shell: hyperfine -N).
command_of() {
    local engine=$1 scenario=$2; shift 2
    case $engine in
        ch05) echo "$ch05 --root $work/ch05 build -q -t bench-$scenario $* $work/$scenario" ;;
        legacy) echo "env DOCKER_BUILDKIT=0 DOCKER_HOST=$DOCKER_HOST $docker build -q -t bench-$scenario $* $work/$scenario" ;;
        buildkit) echo "env DOCKER_BUILDKIT=1 DOCKER_HOST=$DOCKER_HOST $docker build -q -t bench-$scenario $* $work/$scenario" ;;
        podman) echo "${podman_cmd[*]} build -q -t bench-$scenario $* $work/$scenario" ;;
    esac
}
name_of() {
    case $1 in
        ch05) echo "ch05-dockerfile build" ;;
        legacy) echo "docker build (legacy)" ;;
        buildkit) echo "docker build (BuildKit)" ;;
        podman) echo "podman build" ;;
    esac
}

cpu_ns() { [ -n "$cpuacct" ] && cat "$1/cpuacct.usage" || echo 0; }

# bench SCENARIO RUNS WARMUP ARGS...: each engine in a hyperfine of its own, itself in a
# cpuacct cgroup with dockerd's read beside it; one JSON line per engine in $work/SCENARIO.
bench() {
    local scenario=$1 n=$2 warmup=$3; shift 3
    local engine cmd group=${cpuacct:+$cpuacct/dockyard-bench-build-client}
    [ -z "$group" ] || mkdir -p "$group"
    : >"$work/$scenario.results"
    for engine in "${engines[@]}"; do
        cmd=$(command_of "$engine" "$scenario" "$@")
        # The first build of the image, not timed (a rebuild needs one before).
        sh -c "$cmd" >/dev/null
        local d0 c0 d1 c1
        d0=$(cpu_ns "${dgroup:-$group}"); c0=$(cpu_ns "$group")
        sh -c '[ -z "$1" ] || echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$group" \
            hyperfine -N --runs "$n" --warmup "$warmup" --export-json "$work/$scenario-$engine.json" \
            -n "$(name_of "$engine")" "$cmd" >&2
        d1=$(cpu_ns "${dgroup:-$group}"); c1=$(cpu_ns "$group")
        local daemon=0
        case $engine in legacy | buildkit) daemon=$((d1 - d0)) ;; esac
        python3 - "$work/$scenario-$engine.json" "$((c1 - c0))" "$daemon" "$((n + warmup))" \
            >>"$work/$scenario.results" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
client, daemon, count = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cpu = (client + daemon) / count / 1e9 if client else r["user"] + r["system"]
print(json.dumps({"command": r["command"], "median": r["median"], "min": r["min"], "cpu": cpu,
                  "daemon": daemon / count / 1e9}))
PY
    done
}

# report SCENARIO TITLE GOAL: the table; GOAL in seconds, or `2x` (of the legacy builder).
report() {
    echo "$2"
    python3 - "$work/$1.results" "$3" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
goal = sys.argv[2]
legacy = next((r["median"] for r in rows if "legacy" in r["command"]), None)
if goal.endswith("x"):
    goal = legacy / float(goal[:-1]) if legacy else None
else:
    goal = float(goal)
print(f"{'command':<28}{'median':>10}{'min':>10}{'cpu':>10}{'(daemon)':>10}{'/legacy':>9}")
for r in rows:
    ratio = f"{r['median'] / legacy:>8.2f}x" if legacy else ""
    daemon = f"{r['daemon']*1000:>8.1f}ms" if r["daemon"] else f"{'':>10}"
    print(f"{r['command']:<28}{r['median']*1000:>8.1f}ms{r['min']*1000:>8.1f}ms{r['cpu']*1000:>8.1f}ms{daemon}{ratio}")
if goal:
    ch05 = next(r["median"] for r in rows if r["command"].startswith("ch05"))
    verdict = "met" if ch05 <= goal else "missed"
    print(f"goal for ch05-dockerfile build: <= {goal*1000:.1f} ms: {verdict}")
PY
    echo
}

if [ "$what" = small ] || [ "$what" = all ]; then
    bench small "${runs:-30}" 3 --network host
fi
if [ "$what" = nocache ] || [ "$what" = all ]; then
    bench nocache "${runs:-30}" 3 --network host --no-cache
fi
if [ "$what" = context ] || [ "$what" = all ]; then
    bench context "${runs:-5}" 1 --network host --no-cache
fi
echo "release build; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$what" = small ] || [ "$what" = all ] && report small "1. rebuild of a small Dockerfile, nothing changed" 0.020
[ "$what" = nocache ] || [ "$what" = all ] && report nocache "2. --no-cache build of RUN true" 0.050
[ "$what" = context ] || [ "$what" = all ] && report context "3. COPY . /ctx/ of 100 MB in 10 000 files, --no-cache" 2x
true
