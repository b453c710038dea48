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

echo "$queries questions for a member (web A) over UDP, one at a time:"
python3 scripts/lib/dns-questions.py 127.0.0.1 "$port" web 172.18.0.2 "$queries" "$pid"
