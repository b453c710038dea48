#!/usr/bin/env bash
# Benchmark: chapter 06's Compose beside Debian's docker-compose (v1, python, talking to a
# private dockerd of its own, see scripts/lib/private-dockerd.sh) and podman-compose (with
# podman on a storage, runtime and network configuration of its own under the work
# directory), each when installed. Three measures, all with hyperfine:
#   1. `compose up -d` of a project of two services (busybox's sleep under `init: true`, so
#      that `down` does not wait out the 10 s grace period), the project's default network and
#      a network of its own, one port published on 127.0.0.1; `down` is hyperfine's
#      --prepare, so each `up` starts from nothing;
#   2. `compose down` of that project, `up -d` as --prepare;
#   3. `compose config` of a generated file of 50 services (image, command, environment,
#      ports, volumes, depends_on on the previous one, labels).
# Then where dockyard's `up -d` and `down` spend their time: each event line on stderr,
# stamped as it arrives (median of 5 runs, scripts/lib/compose-breakdown.py); under strace,
# down's `nft` children and bridge deletions; and the same two steps by hand, for reference.
#   sudo scripts/bench-compose.sh [RUNS]        (RUNS: hyperfine's runs, default 10)
# The tables hyperfine writes (--export-markdown) are gathered in bench-compose.md in the
# directory the script is called from (OUT=FILE to put them elsewhere).
# Needs hyperfine and busybox-static; docker-compose and docker.io (dockerd) for the first
# comparison, podman and podman-compose for the second (its `--init` is docker.io's static
# docker-init); strace for the breakdown.
# The networks have fixed subnets in 10.215-10.217.x.0/24 (one range per engine: the others'
# bridges are gone by then, but another store's may not be); ports are published on
# 127.0.0.1 only. Everything this script makes (containers, networks, bridges, nftables and
# iptables state, the daemons) is removed at exit.
set -euo pipefail
runs=${1:-10}
out=$(realpath -m "${OUT:-bench-compose.md}")
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "$0: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: containers need root; run with sudo" >&2; exit 1; }

cargo build --release -q -p ch06-compose
tool="${CARGO_TARGET_DIR:-$PWD/target}/release/ch06-compose"
work=$(mktemp -d /tmp/dockyard-bench-compose.XXXXXX)
d="$tool --root $work/state"
project=bench-compose
image=bench-compose-busybox
# Tables that exist before podman runs: whatever table of the ip family its CNI plugins
# (iptables, nf_tables backend) add is removed at exit.
tables_before=$(nft list tables 2>/dev/null || true)
docker=false
podman=false
cleanup() {
    set +e
    [ -f "$work/up.yaml" ] && $d compose -p $project -f "$work/up.yaml" down >/dev/null 2>&1
    if [ -n "${DOCKER_HOST:-}" ]; then
        docker-compose -p $project -f "$work/docker.yaml" down >/dev/null 2>&1
        stop_private_dockerd "$work/docker"
    fi
    if $podman; then
        podman-compose -p $project -f "$work/podman.yaml" down >/dev/null 2>&1
        podman rm -af >/dev/null 2>&1
        for network in $(podman network ls -q 2>/dev/null); do
            [ "$network" = podman ] || podman network rm -f "$network" >/dev/null 2>&1
        done
        umount -R "$work/podman" 2>/dev/null
        # The CNI plugins' chains (CNI-FORWARD, CNI-HOSTPORT-*) stay after their networks:
        # the tables iptables made for them go (never an engine's dockyard_* table).
        nft list tables 2>/dev/null | while read -r _ family table; do
            case $table in dockyard_*) continue ;; esac
            grep -qx "table $family $table" <<<"$tables_before" || nft delete table "$family" "$table"
        done
    fi
    ip link del bench-compose0 2>/dev/null
    nft delete table ip bench_compose 2>/dev/null
    # Any bridge still holding one of this script's subnets is a leftover of an engine's.
    for bridge in $(ip -4 -o addr show | awk '$4 ~ /^10\.21[5-7]\./ {print $2}'); do
        echo "$0: bridge $bridge is left; removing it" >&2
        ip link del "$bridge"
    done
    rm -rf "$work"
}
trap cleanup EXIT

# project_file FILE SUBNET PORTS: the two services' project, its networks in SUBNET.0/24 and
# SUBNET+1; no `version:` (docker-compose 1.27+ reads a file without one as the Compose
# Specification, which has `init`). PORTS is the port's syntax: `long` for dockyard (its `up`
# does not read the short syntax yet: "expected struct Port"), `short` for docker-compose
# (whose schema has no host_ip in the long syntax) and podman-compose.
project_file() {
    local file=$1 a b c port
    IFS=. read -r a b c <<<"$2"
    if [ "$3" = long ]; then
        port=$'- target: 80\n        published: "18080"\n        host_ip: 127.0.0.1\n        protocol: tcp'
    else
        port='- "127.0.0.1:18080:80"'
    fi
    cat >"$file" <<EOF
services:
  front:
    image: $image
    init: true
    command: ["sleep", "3600"]
    networks: [default, back]
    ports:
      $port
  back:
    image: $image
    init: true
    command: ["sleep", "3600"]
    depends_on: [front]
    networks: [back]
networks:
  default:
    ipam:
      config:
        - subnet: $a.$b.$c.0/24
  back:
    ipam:
      config:
        - subnet: $a.$b.$((c + 1)).0/24
EOF
}

# config_file FILE: 50 services, each depending on the previous one; the same file for all
# (long syntax for ports and volumes, which all read; no host_ip, which docker-compose's
# schema lacks: the file is only read, never started).
config_file() {
    local file=$1 i
    {
        echo "services:"
        for i in $(seq 1 50); do
            cat <<EOF
  s$i:
    image: $image
    command: ["sh", "-c", "echo service $i && sleep 3600"]
    environment:
      SERVICE: s$i
      INDEX: "$i"
      MODE: benchmark
    ports:
      - target: 80
        published: "$((20000 + i))"
        protocol: tcp
    volumes:
      - type: volume
        source: data$i
        target: /data
      - type: bind
        source: ./config/s$i
        target: /etc/s$i
        read_only: true
    labels:
      com.example.service: s$i
      com.example.tier: bench
EOF
            [ "$i" -gt 1 ] && printf '    depends_on:\n      - s%d\n' $((i - 1))
        done
        echo "volumes:"
        for i in $(seq 1 50); do echo "  data$i: {}"; done
    } >"$file"
}

# measure NAME COMPOSE FILE CONFIG [RESET]: the measures for one Compose command line (its
# global options before the subcommand); config-50 when CONFIG is yes. RESET, a shell command,
# follows `down` in up's --prepare when `down` leaves something `up` makes.
measure() {
    local name=$1 compose=$2 file=$3 config=$4 reset=${5:-true}
    local c="$compose -p $project -f $file"
    echo "--- $name"
    $c down >/dev/null 2>&1 || true
    hyperfine -N --style basic --warmup 1 --runs "$runs" \
        --prepare "sh -c '$c down >/dev/null 2>&1; $reset'" \
        --export-markdown "$work/$name-up.md" --export-json "$work/$name-up.json" \
        -n "$name up -d" "$c up -d" 2>&1 | grep -E "^Benchmark|Time|Range|±"
    hyperfine -N --style basic --warmup 1 --runs "$runs" \
        --prepare "sh -c '$c up -d >/dev/null 2>&1'" \
        --export-markdown "$work/$name-down.md" --export-json "$work/$name-down.json" \
        -n "$name down" "$c down" 2>&1 | grep -E "^Benchmark|Time|Range|±"
    sh -c "$reset"
    [ "$config" = yes ] || return 0
    hyperfine -N --style basic --warmup 3 --runs "$runs" \
        --export-markdown "$work/$name-config.md" --export-json "$work/$name-config.json" \
        -n "$name config-50" "$compose -f $work/config50.yaml config" 2>&1 | grep -E "^Benchmark|Time|Range|±"
}

# running NAME COMPOSE FILE COUNT: checks that `up -d` started COUNT containers (a Compose
# may say little of a container that fails to start, and still exit with 0).
running() {
    local name=$1 compose=$2 file=$3 count=$4 up
    $compose -p $project -f "$file" up -d >/dev/null 2>&1
    up=$($compose -p $project -f "$file" ps 2>/dev/null | grep -c ' Up ' || true)
    $compose -p $project -f "$file" down >/dev/null 2>&1
    [ "$up" = "$count" ] || { echo "$0: $name: $up of $count containers up after up -d" >&2; return 1; }
}

scripts/busybox-rootfs.sh "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
config_file "$work/config50.yaml"
mkdir -p "$work/config"
echo "conditions: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"

# --- dockyard
$d import "$work/rootfs.tar" $image >/dev/null
project_file "$work/up.yaml" 10.215.0 long
$d compose -f "$work/config50.yaml" config >/dev/null
running dockyard "$d compose" "$work/up.yaml" 2
measure dockyard "$d compose" "$work/up.yaml" yes

# --- docker-compose v1, on a private dockerd without a default bridge (the project's
# networks are its own)
if command -v docker-compose >/dev/null && command -v dockerd >/dev/null; then
    # shellcheck source=scripts/lib/private-dockerd.sh disable=SC1091
    . scripts/lib/private-dockerd.sh
    mkdir -p "$work/docker"
    start_private_dockerd "$work/docker"
    docker import "$work/rootfs.tar" $image >/dev/null
    project_file "$work/docker.yaml" 10.216.0 short
    docker-compose -f "$work/config50.yaml" config >/dev/null
    docker=true
    running docker-compose docker-compose "$work/docker.yaml" 2
    measure docker-compose docker-compose "$work/docker.yaml" yes
    stop_private_dockerd "$work/docker"
    unset DOCKER_HOST
else
    echo "--- docker-compose: not measured (needs docker-compose and dockerd: apt-get install docker-compose docker.io)"
fi

# --- podman-compose, podman on storage and configuration of its own
if command -v podman-compose >/dev/null && command -v podman >/dev/null; then
    mkdir -p "$work/podman/cni"
    cat >"$work/podman/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$work/podman/root"
runroot = "$work/podman/run"
EOF
    cat >"$work/podman/containers.conf" <<EOF
[containers]
init_path = "/usr/bin/docker-init"
# Podman's defaults (1048576 files, 4194304 processes) exceed the hard limits here, and root
# without CAP_SYS_RESOURCE cannot raise them: runc fails with "error setting rlimits".
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_backend = "cni"
network_config_dir = "$work/podman/cni"
# podman-compose 1.0.3 does not pass the file's ipam subnets on: the pool is the range's.
default_subnet = "10.217.9.0/24"
default_subnet_pools = [{"base" = "10.217.0.0/16", "size" = 24}]
[engine]
tmp_dir = "$work/podman/tmp"
volume_path = "$work/podman/volumes"
EOF
    export CONTAINERS_STORAGE_CONF=$work/podman/storage.conf CONTAINERS_CONF=$work/podman/containers.conf
    podman=true
    podman import "$work/rootfs.tar" $image >/dev/null 2>&1
    project_file "$work/podman.yaml" 10.217.0 short
    running podman-compose podman-compose "$work/podman.yaml" 2
    # Its `down` leaves the networks; it has no `config`.
    measure podman-compose podman-compose "$work/podman.yaml" no \
        "podman network rm -f ${project}_default ${project}_back >/dev/null 2>&1"
else
    echo "--- podman-compose: not measured (needs podman and podman-compose: apt-get install podman podman-compose)"
fi

# --- where dockyard's time goes
# stamped OUT COMMAND...: runs it, each line of its stderr prefixed with the microseconds
# since it started, into OUT.
stamped() {
    local out=$1 start=${EPOCHREALTIME/./} line
    shift
    { "$@" 2>&1 >/dev/null; echo " (exit)"; } | while IFS= read -r line; do
        echo "$((${EPOCHREALTIME/./} - start)) $line"
    done >"$out"
}
# A command line, split into words on purpose (as $d is).
c="$d compose -p $project -f $work/up.yaml"
breakdown=5
for i in $(seq "$breakdown"); do
    # shellcheck disable=SC2086
    stamped "$work/events-up.$i" $c up -d
    # shellcheck disable=SC2086
    stamped "$work/events-down.$i" $c down
done
echo "=== dockyard: when each event line of up -d is printed ($breakdown runs)"
python3 scripts/lib/compose-breakdown.py events "$work"/events-up.*
echo "=== dockyard: when each event line of down is printed"
python3 scripts/lib/compose-breakdown.py events "$work"/events-down.*
if command -v strace >/dev/null; then
    echo "=== dockyard: down's network removals, under strace (its own thread: the nft child, the bridge's deletion)"
    for i in $(seq "$breakdown"); do
        # shellcheck disable=SC2086
        $c up -d 2>/dev/null
        # shellcheck disable=SC2086
        strace -f --seccomp-bpf -ttt -T -qq -e signal=none -e trace=clone3,wait4,sendto,recvfrom \
            -o "$work/strace-down.$i" $c down 2>/dev/null
    done
    python3 scripts/lib/compose-breakdown.py strace "$work"/strace-down.*
fi
# The same two steps without dockyard: the kernel's and nft's own cost.
echo "=== for reference, the same steps by hand ($breakdown times each, ms)"
bridge_ms="" table_ms=""
for _ in $(seq "$breakdown"); do
    ip link add bench-compose0 type bridge
    ip link set bench-compose0 up
    start=${EPOCHREALTIME/./}
    ip link del bench-compose0
    bridge_ms+=" $(((${EPOCHREALTIME/./} - start) / 1000))"
    nft add table ip bench_compose
    start=${EPOCHREALTIME/./}
    echo "delete table ip bench_compose" | nft -f -
    table_ms+=" $(((${EPOCHREALTIME/./} - start) / 1000))"
done
echo "  ip link del of an empty bridge:       $bridge_ms"
echo "  nft -f - 'delete table' of an empty one:$table_ms"

# --- summary
echo "=== summary (mean ± σ, $runs runs)"
python3 - "$work" "$docker" "$podman" <<'PY'
import json, os, sys
work = sys.argv[1]
names = ["dockyard", "docker-compose", "podman-compose"]
measures = [("up", "up -d", 0.200), ("down", "down", 0.200), ("config", "config-50", 0.020)]
print(f"| {'':<16} | " + " | ".join(f"{label:<22}" for _, label, _ in measures) + " |")
print(f"|{'-' * 18}|" + "|".join("-" * 24 for _ in measures) + "|")
targets = " | ".join(f"{'<= %d ms' % (t * 1000):<22}" for _, _, t in measures)
print(f"| {'target':<16} | {targets} |")
for name in names:
    cells = []
    for key, _, _ in measures:
        path = os.path.join(work, f"{name}-{key}.json")
        if not os.path.exists(path):
            cells.append(f"{'not measured':<22}")
            continue
        r = json.load(open(path))["results"][0]
        cells.append(f"{'%.1f ± %.1f ms' % (r['mean'] * 1000, r['stddev'] * 1000):<22}")
    print(f"| {name:<16} | " + " | ".join(cells) + " |")
PY
for file in "$work"/*-up.md "$work"/*-down.md "$work"/*-config.md; do
    [ -f "$file" ] && cat "$file" && echo
done >"$out"
echo "hyperfine's tables: $out"
echo "conditions at the end: load average $(cut -d' ' -f1-3 /proc/loadavg)"
