#!/usr/bin/env bash
# Benchmark: how long the embedded DNS server (chapter 06, src/network/dns.rs) takes to answer
# a member's name. It runs the crate's `dns-server` example on a free loopback port, serving
# `web` and `db`, and a Python client asks `web A` over UDP, one question at a time, QUERIES
# times (default 5000, after 200 warm-up questions). Reports the median, 90th and 99th
# percentile round trip as the client measures it (Python's own overhead included: it is the
# same for any server), and the server's CPU time per question (its /proc/PID/stat).
#   scripts/bench-dns.sh [QUERIES]
# The example is a release build in $CARGO_TARGET_DIR (or ./target). No root needed; nothing
# leaves loopback.
set -euo pipefail
queries=${1:-5000}
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "$0: needs python3" >&2; exit 1; }

cargo build --release -q -p ch06-compose --example dns-server
target=${CARGO_TARGET_DIR:-$PWD/target}
server=$target/release/examples/dns-server

work=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null || true; [ -n "${pid:-}" ] && wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkfifo "$work/stdin"
"$server" "$port" web=172.18.0.2 db=172.18.0.3 <"$work/stdin" >"$work/out" &
pid=$!
# Held open by the script: the server stops when it closes (at exit).
exec 3>"$work/stdin"
for _ in $(seq 100); do
    grep -q listening "$work/out" 2>/dev/null && break
    sleep 0.05
done
grep -q listening "$work/out" || { echo "$0: the server did not start" >&2; exit 1; }

python3 - "$port" "$queries" "$pid" <<'PY'
import os, socket, statistics, struct, sys, time

port, count, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ticks = os.sysconf("SC_CLK_TCK")

def question(ident):
    header = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    return header + b"\x03web\x00" + struct.pack(">HH", 1, 1)

def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks

client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.settimeout(2)
client.connect(("127.0.0.1", port))

def ask(ident):
    start = time.perf_counter_ns()
    client.send(question(ident))
    reply = client.recv(512)
    took = time.perf_counter_ns() - start
    assert reply[:2] == struct.pack(">H", ident) and reply[7] == 1, "one answer"
    assert reply[-4:] == bytes([172, 18, 0, 2]), "web's address"
    return took

for i in range(200):
    ask(i)
before = cpu()
times = sorted(ask(i % 65536) for i in range(count))
used = cpu() - before
q = statistics.quantiles(times, n=100)
print(f"{count} questions for a member (web A) over UDP, one at a time:")
print(f"  round trip  median {statistics.median(times) / 1000:.1f} us, "
      f"p90 {q[89] / 1000:.1f} us, p99 {q[98] / 1000:.1f} us")
print(f"  server CPU  {used / count * 1e6:.1f} us per question "
      f"({used:.2f} s over {count}, {1e9 / ticks / 1e6:.0f} ms ticks)")
PY
