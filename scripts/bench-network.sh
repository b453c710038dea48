#!/usr/bin/env bash
# Benchmark: chapter 06's networks, beside docker (a private dockerd of its own, see
# scripts/lib/private-dockerd.sh) when dockerd is installed. Three measures:
#   1. setup cost: `run --rm ... true` with --network none, on the default bridge and on a
#      user-defined network (which adds the DNS socket); then `run -d` of a sleeper (start
#      only: the monitor does the setup, teardown happens in hyperfine's --prepare), and where
#      the time of one bridged `run --rm` goes (the slowest netlink calls, under strace);
#   2. TCP throughput: iperf3's server in a container's network namespace (the host's binary,
#      through nsenter), its port published; the client on the host, to the container's own
#      address (direct), to the published port on 127.0.0.1 and on the host's eth0 address;
#   3. DNS: from one container's namespace, QUERIES questions (default 2000) to 127.0.0.11
#      for another member's name, one at a time; median and p99, and the server's CPU time.
#   sudo [ROUNDS=3] scripts/bench-network.sh [RUNS] [QUERIES]
# Needs hyperfine, iperf3, busybox-static, python3, nftables (and strace for the breakdown).
# Traffic stays on loopback, on the bridges this script makes and in their namespaces (the
# host's eth0 address is the host's own: the kernel routes it through loopback).
set -euo pipefail
runs=${1:-20}
queries=${2:-2000}
rounds=${ROUNDS:-3}
cd "$(dirname "$0")/.."
for program in hyperfine iperf3 python3 nsenter; do
    command -v $program >/dev/null || { echo "$0: needs $program (apt-get install $program)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "$0: containers need root; run with sudo" >&2; exit 1; }

cargo build --release -q -p ch06-compose
tool="${CARGO_TARGET_DIR:-$PWD/target}/release/ch06-compose"
work=$(mktemp -d /tmp/dockyard-bench.XXXXXX)
d="$tool --root $work/state"
containers="bench-run bench-iperf bench-dns-a bench-dns-b"
# Docker's default network: a bridge of this script's, with an address no network of the
# engine takes (the engine allocates from 172.17.0.0/16 up).
docker_bridge=dy-dockerbench
docker_bridge_net=10.213.0.1/24
docker_user_subnet=10.214.0.0/24
cleanup() {
    set +e
    # iperf3 servers still waiting for their client (they hold a container's namespace).
    [ -f "$work/iperf3.pids" ] && while read -r pid; do kill "$pid" 2>/dev/null; done <"$work/iperf3.pids"
    $d rm -f $containers >/dev/null 2>&1
    # The default network's bridge lives on the host too: it goes with this store.
    $d network rm bench-net bridge >/dev/null 2>&1
    if [ -n "${DOCKER_HOST:-}" ]; then
        docker rm -f $containers >/dev/null 2>&1
        docker network rm bench-net >/dev/null || tail -5 "$work/docker/dockerd.log" >&2
        stop_private_dockerd "$work/docker"
    fi
    # Docker's user-defined network's bridge, should its daemon have left it.
    [ -n "${docker_user_bridge:-}" ] && ip link del "$docker_user_bridge" 2>/dev/null
    ip link del "$docker_bridge" 2>/dev/null
    for bridge in ${bridges:-}; do
        [ -e "/sys/class/net/$bridge" ] && echo "$0: bridge $bridge is left" >&2
    done
    rm -rf "$work"
}
trap cleanup EXIT
scripts/busybox-rootfs.sh "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
$d import "$work/rootfs.tar" busybox >/dev/null
$d network create bench-net >/dev/null
$d run --rm busybox true  # makes the default network
# Checked at exit: the engine's bridges of this store must be gone.
bridges=$($d network inspect bench-net bridge | grep -o '"dy-[0-9a-f]*"' | tr -d '"')
docker=false
if command -v dockerd >/dev/null; then
    . scripts/lib/private-dockerd.sh
    mkdir -p "$work/docker"
    ip link add "$docker_bridge" type bridge
    ip addr add "$docker_bridge_net" dev "$docker_bridge"
    ip link set "$docker_bridge" up
    start_private_dockerd "$work/docker" "$docker_bridge"
    docker import "$work/rootfs.tar" busybox >/dev/null
    docker_user_bridge=br-$(docker network create --subnet "$docker_user_subnet" bench-net | cut -c1-12)
    docker=true
fi
host_ip=$(ip -4 -o addr show dev eth0 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')
echo "conditions: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"

# --- 1. setup cost
# setup_cost NAME CLI: the three `run --rm`, then `run -d` with and without a network.
setup_cost() {
    local name=$1 cli=$2
    echo "--- $name: run --rm busybox true"
    hyperfine -N --style basic --warmup 3 --runs "$runs" \
        -n "$name none" "$cli run --rm --network none busybox true" \
        -n "$name bridge" "$cli run --rm busybox true" \
        -n "$name bench-net" "$cli run --rm --network bench-net busybox true" \
        2>&1 | grep -E "^Benchmark|Time|±"
    echo "--- $name: run -d busybox sleep (start only)"
    hyperfine -N --style basic --warmup 2 --runs "$runs" \
        --prepare "sh -c '$cli rm -f bench-run >/dev/null 2>&1 || true'" \
        -n "$name -d none" "$cli run -d --name bench-run --network none busybox sleep 3600" \
        -n "$name -d bridge" "$cli run -d --name bench-run busybox sleep 3600" \
        -n "$name -d bench-net" "$cli run -d --name bench-run --network bench-net busybox sleep 3600" \
        2>&1 | grep -E "^Benchmark|Time|±"
    $cli rm -f bench-run >/dev/null 2>&1 || true
}
echo "=== 1. network setup cost ($runs runs each)"
setup_cost dockyard "$d"
if command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1; then
    # CPU time rather than wall time: the CLI's and the monitor's (perf follows children),
    # until `run -d` returns; less sensitive to a busy machine than hyperfine's clock.
    echo "--- dockyard: CPU time of run -d (CLI and monitor, perf stat task-clock), median of $runs"
    for network in none bridge bench-net; do
        for _ in $(seq "$runs"); do
            $d rm -f bench-run >/dev/null 2>&1 || true
            perf stat -x, -e task-clock -- $d run -d --name bench-run --network $network \
                busybox sleep 3600 2>&1 >/dev/null | cut -d, -f1
        done | sort -n | awk -v n="$network" '{v[NR] = $1} END {printf "  %-9s %5.2f ms CPU\n", n, v[int((NR + 1) / 2)]}'
    done
    $d rm -f bench-run >/dev/null 2>&1 || true
fi
if command -v strace >/dev/null; then
    echo "--- dockyard: where one bridged run --rm spends its time (its slowest calls, under strace)"
    strace -f -T -qq -e signal=none -e trace=sendto,sendmsg,wait4,execve -o "$work/strace" \
        $d run --rm busybox true
    awk -F'<' '{t = $NF; sub(/>.*/, "", t); print t "\t" $0}' "$work/strace" | sort -rn | head -4 | cut -f2- |
        sed -E 's/^([0-9]+) +([a-z0-9]+)\(([0-9]+, \[\{nlmsg_len=[0-9]+, nlmsg_type=([A-Z_]+)).*<([0-9.]+)>$/  \2 \4 \5 s/; s/^([0-9]+) +([a-z0-9]+)\(.*<([0-9.]+)>$/  \2 \3 s/'
fi
$docker && setup_cost docker docker

# --- 2. TCP throughput
# iperf_server PID: iperf3's server in the namespace of PID, on port 5201, for one client
# (-1) and 30 s at most, a job of the caller's; returns once it listens.
iperf_server() {
    local pid=$1
    timeout 30 nsenter -t "$pid" -n iperf3 -s -1 >/dev/null &
    echo $! >>"$work/iperf3.pids"
    for _ in $(seq 50); do
        # Listening (0A) on port 5201 (1451), on IPv4 or IPv6 (iperf3's default).
        nsenter -t "$pid" -n cat /proc/net/tcp /proc/net/tcp6 | grep -Eq ':1451 0+:0000 0A' && return 0
        sleep 0.1
    done
    echo "$0: iperf3 did not listen in the container" >&2
    return 1
}
# gbits PID ADDRESS PORT: one 5-second run to a fresh server, the receiver's rate in Gbit/s.
gbits() {
    local json
    iperf_server "$1"
    # A server left waiting would hold the container's namespace (and its veth) alive.
    json=$(iperf3 -c "$2" -p "$3" -t 5 -J) || { kill $!; wait; echo "$0: iperf3 -c $2 -p $3 failed" >&2; return 1; }
    wait
    python3 -c 'import json, sys; print("%.2f" % (json.loads(sys.argv[1])["end"]["sum_received"]["bits_per_second"] / 1e9))' "$json"
}
# throughput NAME CLI: direct and published, ROUNDS times in turn (the machine is shared:
# interleaving spreads its noise over the three), and the ratios of the medians.
throughput() {
    local name=$1 cli=$2 port pid ip direct="" loopback="" external="" round
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    $cli run -d --name bench-iperf -p "$port:5201" busybox sleep 3600 >/dev/null
    pid=$($cli inspect -f '{{.State.Pid}}' bench-iperf)
    ip=$($cli inspect -f '{{.NetworkSettings.IPAddress}}' bench-iperf)
    [ -n "$ip" ] || ip=$($cli inspect -f '{{index .NetworkSettings.Networks "bridge" "IPAddress"}}' bench-iperf)
    echo "--- $name: container $ip, published on host port $port; $rounds rounds of 5 s each"
    for round in $(seq "$rounds"); do
        direct+=" $(gbits "$pid" "$ip" 5201)"
        loopback+=" $(gbits "$pid" 127.0.0.1 "$port")"
        [ -n "$host_ip" ] && external+=" $(gbits "$pid" "$host_ip" "$port")"
    done
    python3 - "$direct" "$loopback" "$external" "$host_ip" <<'PY'
import statistics, sys
direct, loopback, external = ([float(x) for x in arg.split()] for arg in sys.argv[1:4])
host_ip = sys.argv[4]
base = statistics.median(direct)
def line(label, values, note):
    median = statistics.median(values)
    runs = " ".join(f"{v:.1f}" for v in values)
    ratio = f"{median / base:4.0%} of direct" if values is not direct else "           "
    print(f"  {label:<10} median {median:6.2f} Gbit/s  {ratio}  ({runs}) {note}")
line("direct", direct, "to the container's address")
line("127.0.0.1", loopback, "published port")
if external:
    line(host_ip, external, "published port, eth0's address")
PY
    $cli rm -f bench-iperf >/dev/null
}
echo "=== 2. TCP throughput, iperf3 -t 5 from the host to a container on the default bridge"
throughput dockyard "$d"
$docker && throughput docker docker

# --- 3. DNS
# dns NAME CLI SERVER: QUERIES questions from bench-dns-a for bench-dns-b; SERVER is the
# process that answers (its CPU time is read from /proc).
dns() {
    local name=$1 cli=$2 server=$3 pid expected
    $cli run -d --name bench-dns-a --network bench-net busybox sleep 3600 >/dev/null
    $cli run -d --name bench-dns-b --network bench-net busybox sleep 3600 >/dev/null
    pid=$($cli inspect -f '{{.State.Pid}}' bench-dns-a)
    expected=$($cli inspect -f '{{index .NetworkSettings.Networks "bench-net" "IPAddress"}}' bench-dns-b)
    [ "$server" = monitor ] && server=$(ps -o ppid= -p "$pid" | tr -d ' ')
    echo "--- $name: $queries questions from bench-dns-a to 127.0.0.11 for bench-dns-b ($expected)"
    nsenter -t "$pid" -n python3 scripts/lib/dns-questions.py 127.0.0.11 53 bench-dns-b "$expected" "$queries" "$server"
    $cli rm -f bench-dns-a bench-dns-b >/dev/null
}
echo "=== 3. DNS answer for a member, from inside a container on a user-defined network"
dns dockyard "$d" monitor
$docker && dns docker docker "$(cat "$work/docker/docker.pid")"
echo "conditions at the end: load average $(cut -d' ' -f1-3 /proc/loadavg)"
