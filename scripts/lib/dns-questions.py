#!/usr/bin/env python3
"""Asks a DNS server for one name, COUNT times, one question at a time, and prints the round
trip's median, p90, p99 and maximum, and the server's CPU time per question.

    dns-questions.py SERVER PORT NAME EXPECTED_IP COUNT SERVER_PID

SERVER_PID is the process that answers: its CPU time is read from /proc (every thread's
schedstat, in nanoseconds). Each answer is checked: the question's id, and EXPECTED_IP last.
Used by scripts/bench-dns.sh and scripts/bench-network.sh.
"""
import os
import socket
import statistics
import struct
import sys
import time

server, port, name, expected = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
count, pid = int(sys.argv[5]), sys.argv[6]
labels = b"".join(bytes([len(part)]) + part for part in name.encode().split(b".")) + b"\0"


def cpu():
    """The server's CPU time, all its threads, in seconds."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
        except FileNotFoundError:
            pass
    return total / 1e9


client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.settimeout(2)
client.connect((server, port))


def ask(ident):
    question = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + struct.pack(">HH", 1, 1)
    start = time.perf_counter_ns()
    client.send(question)
    reply = client.recv(512)
    took = time.perf_counter_ns() - start
    assert reply[:2] == struct.pack(">H", ident), "the answer to this question"
    assert reply[-4:] == socket.inet_aton(expected), f"{name}'s address, got {reply!r}"
    return took


for i in range(200):
    ask(i)
before = cpu()
times = sorted(ask(i % 65536) for i in range(count))
used = cpu() - before
q = statistics.quantiles(times, n=100)
print(f"  round trip  median {statistics.median(times) / 1000:.1f} us, p90 {q[89] / 1000:.1f} us, "
      f"p99 {q[98] / 1000:.1f} us, max {times[-1] / 1000:.1f} us")
print(f"  server CPU  {used / count * 1e6:.1f} us per question (all threads of process {pid})")
