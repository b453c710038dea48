#!/usr/bin/env python3
"""Where a `compose up -d` or `down` of dockyard's spends its time; for scripts/bench-compose.sh.

  compose-breakdown.py events FILE...   each FILE: one run's stderr, every line prefixed with
                                        the microseconds since the command started (the last
                                        line " (exit)"); prints each event's median time and
                                        the median step from the line before.
  compose-breakdown.py strace FILE...   each FILE: `strace -f -ttt -T` of one `down` (clone3,
                                        wait4, sendto, recvfrom); prints, for the CLI's own
                                        thread, each `nft -f -` child (vfork to reaped) and
                                        each RTM_DELLINK (sent to acknowledged), in ms.
"""
import statistics
import sys


def events(files):
    runs = []
    for name in files:
        with open(name) as f:
            runs.append([line.rstrip("\n").split(" ", 1) for line in f if line.strip()])
    labels = [label for _, label in runs[0]]
    if any([label for _, label in run] != labels for run in runs):
        print("  (the runs' events differ; the first run alone)")
        runs = runs[:1]
    print(f"  {'at (median)':>11} {'step':>8}  event ({len(runs)} runs)")
    for i, label in enumerate(labels):
        at = statistics.median(int(run[i][0]) for run in runs) / 1000
        step = statistics.median(
            (int(run[i][0]) - (int(run[i - 1][0]) if i else 0)) for run in runs) / 1000
        print(f"  {at:8.1f} ms {step:5.1f} ms {label}")


def strace(files):
    nft, dellink = [], []
    for name in files:
        with open(name) as f:
            lines = [line.split(None, 2) for line in f if line.strip()]
        main = lines[0][0]
        spawned = sent = None
        for pid, stamp, call in lines:
            if pid != main:
                continue
            t = float(stamp)
            if call.startswith("clone3(") and "CLONE_VFORK" in call:
                spawned = t
            elif call.startswith("wait4(") and spawned is not None:
                nft.append((t - spawned) * 1000)
                spawned = None
            elif call.startswith("sendto(") and "RTM_DELLINK" in call:
                sent = t
            elif "recvfrom(" in call and "RTM_DELLINK" in call and sent is not None:
                dellink.append((t - sent) * 1000)
                sent = None
    for label, values in (("nft -f - child (spawn to reaped)", nft),
                          ("RTM_DELLINK of a bridge (sent to ack)", dellink)):
        if values:
            shown = " ".join(f"{v:.1f}" for v in values)
            print(f"  {label:<40} median {statistics.median(values):5.1f} ms  ({shown})")


if __name__ == "__main__":
    {"events": events, "strace": strace}[sys.argv[1]](sys.argv[2:])
